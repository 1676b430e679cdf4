import { createHash } from 'node:crypto';
import { MemoryAuditPort, type RandomSource, runAsSystem, runAsTenant } from '@tenantry/core';
import {
  type FieldCryptoOptions,
  type KeyCensusRow,
  type RotationChange,
  type RotationRow,
  type RotationTarget,
  createFieldCrypto,
  describeValue,
  localKeyProvider,
} from '@tenantry/crypto-fields';
import { MemoryDataKeyStore } from '@tenantry/crypto-fields/memory';
import { it } from 'vitest';

/** A fixed test KEK (32 bytes, base64). */
export const KEK1 = Buffer.alloc(32, 7).toString('base64');
export const KEK2 = Buffer.alloc(32, 9).toString('base64');

/** Deterministic randomness: SHA-256 in counter mode over a seed (tests only). */
export function seededRandom(seed: string): RandomSource {
  let counter = 0;
  return {
    bytes(length: number): Uint8Array {
      const out = new Uint8Array(length);
      for (let o = 0; o < length; o += 32) {
        const block = createHash('sha256').update(`${seed}:${counter++}`).digest();
        out.set(block.subarray(0, Math.min(32, length - o)), o);
      }
      return out;
    },
  };
}

export function makeFields(overrides: Partial<FieldCryptoOptions> = {}) {
  const store = overrides.store ?? new MemoryDataKeyStore();
  const provider = overrides.provider ?? localKeyProvider({ keys: { kek1: KEK1 }, primary: 'kek1' });
  return { store, provider, fields: createFieldCrypto({ ...overrides, store, provider }) };
}

export const ctx = { tenantId: 'acme', collection: 'settings', field: 'smtpPassword', rowId: 'row-1' };

const opsActor = { id: 'crypto-fields-tests', kind: 'service' as const };

/** Run `fn` inside core's audited system scope: back-office code that names tenants explicitly. */
export function asSystem<R>(fn: () => Promise<R> | R): Promise<R> {
  return runAsSystem({ actor: opsActor, reason: 'crypto-fields tests' }, new MemoryAuditPort(), fn);
}

/** Run `fn` inside `runAsTenant(tenantId)`. */
export function asTenant<R>(tenantId: string, fn: () => R): R {
  return runAsTenant({ tenantId, actor: { id: 'u1', roles: ['ADMIN'] } }, fn);
}

/**
 * Vitest's `it`, with the test body run inside the system scope: most tests here name tenants
 * explicitly, which outside any context is refused (invariant T1).
 */
export function itAsSystem(name: string, fn: () => Promise<unknown> | unknown, timeout?: number): void {
  it(name, () => asSystem(fn), timeout);
}

/** A row of {@link MemoryRotationTarget}. */
export interface MemoryRow {
  id: string;
  tenantId: string;
  values: Record<string, string | null>;
}

/** An in-memory {@link RotationTarget} with compare-and-set writes, for rotation tests. */
export class MemoryRotationTarget implements RotationTarget {
  readonly rows = new Map<string, MemoryRow>();
  constructor(
    readonly collection: string,
    readonly fields: readonly string[],
    rows: MemoryRow[] = [],
    readonly bindRowId = false,
  ) {
    for (const r of rows) this.rows.set(r.id, structuredClone(r));
  }
  async scan(after: string | null, limit: number): Promise<RotationRow[]> {
    return [...this.rows.values()]
      .filter((r) => after === null || r.id > after)
      .sort((a, b) => (a.id < b.id ? -1 : 1))
      .slice(0, limit)
      .map((r) => structuredClone(r));
  }
  async replace(changes: RotationChange[]): Promise<ReadonlySet<number>> {
    const applied = new Set<number>();
    changes.forEach((c, i) => {
      const row = this.rows.get(c.id);
      if (row && row.tenantId === c.tenantId && row.values[c.field] === c.expected) {
        row.values[c.field] = c.next;
        applied.add(i);
      }
    });
    return applied;
  }
  async census(): Promise<KeyCensusRow[]> {
    const counts = new Map<string, KeyCensusRow>();
    for (const r of this.rows.values()) {
      for (const f of this.fields) {
        const v = r.values[f];
        if (v === null || v === undefined) continue;
        const d = describeValue(v);
        const keyId = d.kind === 'ciphertext' ? d.keyId : null;
        const k = `${r.tenantId}\u0000${f}\u0000${keyId}`;
        const row = counts.get(k) ?? { tenantId: r.tenantId, field: f, keyId, count: 0 };
        row.count++;
        counts.set(k, row);
      }
    }
    return [...counts.values()];
  }
}
