import { createHash } from 'node:crypto';
import type { RandomSource } from '@tenantry/core';
import {
  type FieldCryptoOptions,
  MemoryDataKeyStore,
  createFieldCrypto,
  localKeyProvider,
} from '@tenantry/crypto-fields';

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
