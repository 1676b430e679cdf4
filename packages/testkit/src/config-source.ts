import type { TenantConfigSource } from '@tenantry/core';

/** A configuration source that counts the reads that went through each of its two doors. */
export interface CountingConfigSource extends TenantConfigSource {
  /** `get`: a read that may do I/O; `peek`: a read answered (or declined) from memory. */
  readonly reads: { get: number; peek: number };
}

/**
 * Wrap a configuration source (a `TenantConfigCache`) to count its `get` and `peek` calls, so a test
 * can prove which path a request took.
 */
export function countingConfigSource(source: TenantConfigSource): CountingConfigSource {
  const reads = { get: 0, peek: 0 };
  return {
    reads,
    get: (...a) => {
      reads.get++;
      return source.get(...a);
    },
    peek: (...a) => {
      reads.peek++;
      return source.peek?.(...a);
    },
  };
}
