import { createHash } from 'node:crypto';
import { inspect } from 'node:util';
import { MemoryLogger, isTenantryError } from '@tenantry/core';
import { localKeyProvider, runRotation } from '@tenantry/crypto-fields';
import { MemoryCheckpointStore, MemoryDataKeyStore } from '@tenantry/crypto-fields/memory';
import type { RotationTarget } from '@tenantry/crypto-fields';
import { describe, expect } from 'vitest';
import { keyringOf } from '../src/tenant-keys.js';
import { KEK1, KEK2, ctx, makeFields, seededRandom, itAsSystem as it } from './helpers.js';

const PLAINTEXT = 'PLAINTEXT-sk_live_4eC39HqLyjWDarjtT1zdp7dc';
// With seededRandom('hygiene'), draw 1 is the first data key (see format.test.ts).
const DATA_KEY = createHash('sha256').update('hygiene:1').digest();
const secretsToLookFor = [
  PLAINTEXT,
  'sk_live_4eC39',
  KEK1,
  Buffer.from(KEK1, 'base64').toString('hex'),
  Buffer.from(KEK1, 'base64').toString('base64url'),
  KEK2,
  DATA_KEY.toString('hex'),
  DATA_KEY.toString('base64'),
  DATA_KEY.toString('base64url'),
];
const assertClean = (label: string, text: string) => {
  for (const s of secretsToLookFor) {
    if (text.includes(s)) throw new Error(`${label} leaks a secret (${s.slice(0, 6)}…)`);
  }
};
const everyView = (label: string, v: unknown) => {
  assertClean(`${label} JSON`, JSON.stringify(v) ?? '');
  assertClean(`${label} inspect`, inspect(v, { depth: 20, showHidden: true, getters: true }));
  assertClean(`${label} String`, String(v));
  if (v instanceof Error) assertClean(`${label} stack`, `${v.stack} ${inspect(v.cause, { depth: 20 })}`);
};

describe('keys, data keys and plaintexts never reach logs, errors, toJSON or inspect', () => {
  it('the service objects print no key material', async () => {
    const logger = new MemoryLogger();
    const provider = localKeyProvider({ keys: { kek1: KEK1, kek2: KEK2 }, primary: 'kek1' });
    const { fields, store } = makeFields({ provider, logger, random: seededRandom('hygiene') });
    const c = await fields.seal(PLAINTEXT, ctx);
    // sanity: the data key we look for is really the one in use (else this test would prove nothing)
    const { fields: twin } = makeFields({ random: seededRandom('hygiene') });
    expect(await twin.seal(PLAINTEXT, ctx)).toBe(c);
    await fields.open(c, ctx);
    const material = await keyringOf(fields.keys).primary('acme');
    everyView('FieldCrypto', fields);
    everyView('TenantKeys', fields.keys);
    everyView('KeyProvider', provider);
    everyView('KeyMaterial', material);
    everyView('IndexKeyMaterial', await keyringOf(fields.keys).indexKey('acme'));
    everyView('DataKeyStore', store);
    everyView('store records', await store.list('acme'));
    everyView('ciphertext', c);
    await fields.keys.rotate('acme');
    await fields.keys.shred('acme');
    for (const e of logger.entries) everyView('log entry', e);
    expect(logger.entries.length).toBeGreaterThan(0);
  });

  it('every error code carries no plaintext or key material', async () => {
    const { fields } = makeFields({ random: seededRandom('hygiene') });
    const c = await fields.seal(PLAINTEXT, ctx);
    const errors: unknown[] = [];
    const grab = async (p: Promise<unknown>) =>
      errors.push(
        await p.then(
          () => new Error('no error'),
          (e) => e,
        ),
      );
    await grab(fields.open(`${c.slice(0, -3)}AAA`, ctx)); // CRYPTO_DECRYPT_FAILED (tamper)
    await grab(fields.open(c, { ...ctx, field: 'other' })); // CRYPTO_DECRYPT_FAILED (context)
    await grab(fields.open(c.replace(/:dk[^:]+:/, ':dkNOPE:'), ctx)); // CRYPTO_UNKNOWN_KEY_ID
    await grab(fields.open(PLAINTEXT, ctx)); // CRYPTO_PLAINTEXT_REJECTED
    await grab(fields.sealJson(BigInt(1), ctx)); // CRYPTO_UNSEALABLE_VALUE
    await grab(fields.seal(PLAINTEXT, { ...ctx, collection: '' })); // VALIDATION_FAILED
    const wrongKek = makeFields({
      store: fields.keys.store,
      provider: localKeyProvider({ keys: { kek1: KEK2 }, primary: 'kek1' }),
    }).fields;
    await grab(wrongKek.open(c, ctx)); // CRYPTO_KEY_PROVIDER_FAILED
    const codes = errors.map((e) => (isTenantryError(e) ? e.code : String(e)));
    expect(codes).toEqual([
      'CRYPTO_DECRYPT_FAILED',
      'CRYPTO_DECRYPT_FAILED',
      'CRYPTO_UNKNOWN_KEY_ID',
      'CRYPTO_PLAINTEXT_REJECTED',
      'CRYPTO_UNSEALABLE_VALUE',
      'VALIDATION_FAILED',
      'CRYPTO_KEY_PROVIDER_FAILED',
    ]);
    for (const e of errors) everyView('error', e);
    // The tamper and context errors are indistinguishable: same code, same message, no details.
    expect(JSON.stringify(errors[0])).toBe(JSON.stringify(errors[1]));
  });

  it('the rotation job logs counts and ids only', async () => {
    const logger = new MemoryLogger();
    const { fields } = makeFields({ logger, acceptPlaintext: true });
    const rows = new Map([['1', PLAINTEXT]]);
    const target: RotationTarget = {
      collection: 'settings',
      fields: ['smtpPassword'],
      bindRowId: false,
      scan: async (after) =>
        after === null
          ? [...rows].map(([id, v]) => ({ id, tenantId: 'acme', values: { smtpPassword: v } }))
          : [],
      replace: async (changes) => {
        for (const ch of changes) rows.set(ch.id, ch.next);
        return new Set(changes.map((_, i) => i));
      },
      census: async () => [],
    };
    const report = await runRotation({
      fields,
      target,
      checkpoints: new MemoryCheckpointStore(),
      jobId: 'j',
      logger,
    });
    expect(report.migrated).toBe(1);
    everyView('report', report);
    for (const e of logger.entries) everyView('log entry', e);
    expect(new MemoryDataKeyStore()).toBeDefined();
  });
});
