import { isTenantryError } from '@tenantry/core';
import { createFieldCrypto, localKeyProvider, runRotation } from '@tenantry/crypto-fields';
import { MemoryCheckpointStore, MemoryDataKeyStore } from '@tenantry/crypto-fields/memory';
import { describe, expect } from 'vitest';
import { KEK1, KEK2, type MemoryRow, MemoryRotationTarget, itAsSystem as it, makeFields } from './helpers.js';

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

// Issue 12 item 2: every map keyed by tenant or key id is bounded. The rotation run remembers keys that
// did not unwrap (not to hammer a KMS); past its bound the oldest are forgotten and asked again.
describe('rotation run state is bounded', () => {
  it('unreadable keys remembered per run: bounded, the oldest asked again, results unchanged', async () => {
    const { rotationLimits } = await import('../src/rotation.js');
    const store = new MemoryDataKeyStore();
    const old = createFieldCrypto({
      store,
      provider: localKeyProvider({ keys: { kekOld: KEK1 }, primary: 'kekOld' }),
    });
    const rows: MemoryRow[] = [];
    for (const round of ['a', 'b']) {
      for (let t = 0; t < 12; t++) {
        const tenantId = `t${t}`;
        rows.push({
          id: `${round}${String(t).padStart(2, '0')}`,
          tenantId,
          values: { apiKey: await old.seal('v', at(tenantId)) },
        });
      }
    }
    const run = async (bound: number) => {
      const inner = localKeyProvider({ keys: { kekNew: KEK2 }, primary: 'kekNew' });
      let unwraps = 0;
      const provider = {
        ...inner,
        unwrap: (...a: Parameters<typeof inner.unwrap>) => {
          unwraps++;
          return inner.unwrap(...a);
        },
      };
      const saved = rotationLimits.maxUnreadableKeys;
      rotationLimits.maxUnreadableKeys = bound;
      try {
        const report = await runRotation({
          fields: createFieldCrypto({ store, provider }),
          target: new MemoryRotationTarget('settings', ['apiKey'], rows),
          checkpoints: new MemoryCheckpointStore(),
          jobId: `j${++jobs}`,
          batchSize: 5,
        });
        return { report, unwraps };
      } finally {
        rotationLimits.maxUnreadableKeys = saved;
      }
    };
    const wide = await run(10_000);
    expect(wide.unwraps).toBe(12); // one attempt per tenant, then remembered
    const narrow = await run(4);
    expect(narrow.unwraps).toBe(24); // driven 3x past its bound: the second round asks again
    for (const r of [wide.report, narrow.report]) {
      expect(r).toMatchObject({ scanned: 24, failed: 24, reencrypted: 0 });
      expect(r.failures.every((f) => f.code === 'CRYPTO_KEY_PROVIDER_FAILED' && f.count === 2)).toBe(true);
    }
  });
});
