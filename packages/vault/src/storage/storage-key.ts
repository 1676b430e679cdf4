import { TenantryError, ValidationError } from '@tenantry/core';
import { VaultError } from '../errors.js';

/** Longest storage key accepted, in characters (S3's limit is 1024 bytes; keys here are ASCII). */
export const MAX_STORAGE_KEY_LENGTH = 1024;
const SEGMENT = /^[A-Za-z0-9_=+~-][A-Za-z0-9._=+~-]{0,254}$/;
const PREFIX_TAIL = /^([A-Za-z0-9_=+~-][A-Za-z0-9._=+~-]{0,254})?$/;

function invalid(what: 'key' | 'prefix', reason: string): VaultError {
  // The key itself is not echoed: it may be hostile (huge, control characters).
  return new VaultError(
    'VAULT_STORAGE_KEY_INVALID',
    `The storage ${what} is not a safe relative path: ${reason}.`,
    {
      details: { reason },
    },
  );
}

/**
 * Check that `key` is a safe relative object key, the same rule on every driver: 1-1024 characters,
 * `/`-separated segments of `[A-Za-z0-9._=+~-]` that do not start with `.` (so no `.`, `..`, hidden
 * or temporary names), no empty segment, no leading or trailing `/`. Keys are ASCII, so byte order
 * (S3) and string order agree. Throws `VAULT_STORAGE_KEY_INVALID` otherwise.
 * @example assertStorageKey('t-acme/2026/snap-01.vault'); // ok
 */
export function assertStorageKey(key: unknown): asserts key is string {
  if (typeof key !== 'string') throw invalid('key', 'not a string');
  if (key.length === 0 || key.length > MAX_STORAGE_KEY_LENGTH) throw invalid('key', 'empty or too long');
  for (const segment of key.split('/')) {
    if (!SEGMENT.test(segment))
      throw invalid(
        'key',
        'a segment is empty, starts with a dot or holds a character outside [A-Za-z0-9._=+~-]',
      );
  }
}

/**
 * Check a listing prefix: empty (everything), or whole safe segments each followed by `/`, then
 * optionally the start of a segment (`t-acme/`, `t-acme/snap-`). Throws `VAULT_STORAGE_KEY_INVALID`.
 */
export function assertStoragePrefix(prefix: unknown): asserts prefix is string {
  if (typeof prefix !== 'string') throw invalid('prefix', 'not a string');
  if (prefix.length > MAX_STORAGE_KEY_LENGTH) throw invalid('prefix', 'too long');
  const segments = prefix.split('/');
  const tail = segments.pop() ?? '';
  if (!PREFIX_TAIL.test(tail))
    throw invalid(
      'prefix',
      'the last segment starts with a dot or holds a character outside [A-Za-z0-9._=+~-]',
    );
  for (const segment of segments) {
    if (!SEGMENT.test(segment))
      throw invalid(
        'prefix',
        'a segment is empty, starts with a dot or holds a character outside [A-Za-z0-9._=+~-]',
      );
  }
}

/** Whether a body can be iterated (`for await`), checked before any storage is touched. */
export function isChunkSource(body: unknown): body is AsyncIterable<Uint8Array> | Iterable<Uint8Array> {
  if (body === null || (typeof body !== 'object' && typeof body !== 'function')) return false;
  const b = body as { [Symbol.asyncIterator]?: unknown; [Symbol.iterator]?: unknown };
  return typeof b[Symbol.asyncIterator] === 'function' || typeof b[Symbol.iterator] === 'function';
}

/**
 * A failure of the caller's upload body (the producer threw): a Tenantry error passes through, any
 * other becomes `VAULT_STORAGE_UNAVAILABLE` with the error as `cause` (the upload was not stored).
 */
export function bodyFailure(error: unknown, driver: string): TenantryError {
  if (error instanceof TenantryError) return error;
  return new VaultError('VAULT_STORAGE_UNAVAILABLE', 'The upload body failed; nothing was stored.', {
    cause: error,
    details: { driver, operation: 'read the upload body' },
  });
}

/** The check every driver makes on each chunk of an upload body. */
export function assertChunk(chunk: unknown): asserts chunk is Uint8Array {
  if (!(chunk instanceof Uint8Array)) {
    throw new ValidationError('snapshot storage body', [
      { path: ['body', 'chunk'], message: 'must be a Uint8Array' },
    ]);
  }
}

/** The check every driver makes on an upload body before touching storage. */
export function assertBody(body: unknown): asserts body is AsyncIterable<Uint8Array> | Iterable<Uint8Array> {
  if (!isChunkSource(body)) {
    throw new ValidationError('snapshot storage body', [
      { path: ['body'], message: 'must be an (async) iterable of Uint8Array' },
    ]);
  }
}
