import { isTenantryError } from '@tenantry/core';
import { createFieldCrypto, localKeyProvider, runRotation } from '@tenantry/crypto-fields';
import { MemoryCheckpointStore, MemoryDataKeyStore } from '@tenantry/crypto-fields/memory';
import { describe, expect } from 'vitest';
import { KEK1, KEK2, MemoryRotationTarget, itAsSystem as it, makeFields } from './helpers.js';

const codeOf = async (p: Promise<unknown>) =>
  p.then(
    () => 'NO_ERROR',
    (e) => (isTenantryError(e) ? e.code : `raw:${String(e)}`),
  );
const at = (tenantId: string) => ({ tenantId, collection: 'settings', field: 'apiKey' });
let jobs = 0;

describe('rotation job (memory target)', () => {
  // Issue 11 item 12: with acceptPlaintext off, open() refuses planted plaintext, so rotation must not
  // turn it into a genuine ciphertext.
  it('does not launder planted plaintext: without acceptPlaintext it is counted as failed, with its row id', async () => {
    const { fields } = makeFields();
    const genuine = await fields.seal('sk_live_genuine', at('acme'));
    const target = new MemoryRotationTarget(
      'settings',
      ['apiKey'],
      [
        { id: 'r1', tenantId: 'acme', values: { apiKey: genuine } },
        { id: 'r2', tenantId: 'acme', values: { apiKey: 'attacker-planted' } },
      ],
    );
    await fields.keys.rotate('acme');
    const report = await runRotation({
      fields,
      target,
      checkpoints: new MemoryCheckpointStore(),
      jobId: `j${++jobs}`,
    });
    expect(report).toMatchObject({ scanned: 2, reencrypted: 1, migrated: 0, failed: 1, failedIds: ['r2'] });
    expect(report.failures).toEqual([
      { tenantId: 'acme', keyId: null, code: 'CRYPTO_PLAINTEXT_REJECTED', count: 1 },
    ]);
    expect(target.rows.get('r2')?.values.apiKey).toBe('attacker-planted');
    expect(await codeOf(fields.open('attacker-planted', at('acme')))).toBe('CRYPTO_PLAINTEXT_REJECTED');
    expect(await fields.open(target.rows.get('r1')!.values.apiKey!, at('acme'))).toBe('sk_live_genuine');
    expect(await codeOf(fields.reseal('attacker-planted', at('acme')))).toBe('CRYPTO_PLAINTEXT_REJECTED');
  });

  it('migrates plaintext when the caller opted in (acceptPlaintext: true)', async () => {
    const { fields } = makeFields({ acceptPlaintext: true });
    const target = new MemoryRotationTarget(
      'settings',
      ['apiKey'],
      [{ id: 'r1', tenantId: 'acme', values: { apiKey: 'legacy-plain' } }],
    );
    const report = await runRotation({
      fields,
      target,
      checkpoints: new MemoryCheckpointStore(),
      jobId: `j${++jobs}`,
    });
    expect(report).toMatchObject({ migrated: 1, failed: 0, failures: [] });
    expect(await fields.open(target.rows.get('r1')!.values.apiKey!, at('acme'))).toBe('legacy-plain');
  });

  // Issue 11 item 13: one tenant whose data key was wrapped by a KEK no longer configured used to abort
  // the whole job with KEY_PROVIDER_FAILED.
  it('a tenant whose data key does not unwrap is counted per tenant and key id; other tenants rotate', async () => {
    const store = new MemoryDataKeyStore();
    const old = createFieldCrypto({
      store,
      provider: localKeyProvider({ keys: { kekOld: KEK1 }, primary: 'kekOld' }),
    });
    const current = createFieldCrypto({
      store,
      provider: localKeyProvider({ keys: { kekNew: KEK2 }, primary: 'kekNew' }),
    });
    const rows = [];
    for (let i = 0; i < 5; i++) {
      rows.push({
        id: `a${i}`,
        tenantId: 'acme',
        values: { apiKey: await old.seal(`acme-${i}`, at('acme')) },
      });
      rows.push({
        id: `g${i}`,
        tenantId: 'globex',
        values: { apiKey: await current.seal(`globex-${i}`, at('globex')) },
      });
    }
    const acmeKey = (await store.list('acme'))[0]!.keyId;
    await current.keys.rotate('globex');
    const target = new MemoryRotationTarget('settings', ['apiKey'], rows);
    const report = await runRotation({
      fields: current,
      target,
      checkpoints: new MemoryCheckpointStore(),
      jobId: `j${++jobs}`,
      batchSize: 3,
    });
    expect(report).toMatchObject({ scanned: 10, reencrypted: 5, failed: 5 });
    expect(report.failures).toEqual([
      { tenantId: 'acme', keyId: acmeKey, code: 'CRYPTO_KEY_PROVIDER_FAILED', count: 5 },
    ]);
    expect(report.failedIds.sort()).toEqual(['a0', 'a1', 'a2', 'a3', 'a4']);
    for (let i = 0; i < 5; i++) {
      expect(target.rows.get(`a${i}`)?.values.apiKey).toBe(rows[2 * i]!.values.apiKey);
      expect(await current.open(target.rows.get(`g${i}`)!.values.apiKey!, at('globex'))).toBe(`globex-${i}`);
    }
  });

  it('the key store failing stops the job (infrastructure, not a value): the checkpoint lets a rerun resume', async () => {
    const { fields, store } = makeFields();
    const c = await fields.seal('v', at('acme'));
    const target = new MemoryRotationTarget(
      'settings',
      ['apiKey'],
      [{ id: 'r1', tenantId: 'acme', values: { apiKey: c } }],
    );
    const broken = createFieldCrypto({
      provider: localKeyProvider({ keys: { kek1: KEK1 }, primary: 'kek1' }),
      store: Object.assign(Object.create(store), {
        getPrimary: async () => {
          throw new (await import('@tenantry/crypto-fields')).CryptoFieldsError(
            'CRYPTO_STORE_UNAVAILABLE',
            'down',
          );
        },
      }),
    });
    expect(
      await codeOf(
        runRotation({
          fields: broken,
          target,
          checkpoints: new MemoryCheckpointStore(),
          jobId: `j${++jobs}`,
        }),
      ),
    ).toBe('CRYPTO_STORE_UNAVAILABLE');
  });

  it('inside a tenant context only that tenant is rotated and reported', async () => {
    const { fields } = makeFields();
    const target = new MemoryRotationTarget(
      'settings',
      ['apiKey'],
      [
        { id: 'a', tenantId: 'acme', values: { apiKey: await fields.seal('x', at('acme')) } },
        { id: 'g', tenantId: 'globex', values: { apiKey: await fields.seal('y', at('globex')) } },
      ],
    );
    await fields.keys.rotate('acme');
    await fields.keys.rotate('globex');
    const report = await runRotation({
      fields,
      tenantId: 'acme',
      target,
      checkpoints: new MemoryCheckpointStore(),
      jobId: `j${++jobs}`,
    });
    expect(report).toMatchObject({ scanned: 1, reencrypted: 1 });
    expect(Object.values(report.remainingByKeyId).reduce((a, b) => a + b, 0)).toBe(1);
  });
});
