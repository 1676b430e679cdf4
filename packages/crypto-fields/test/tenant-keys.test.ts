import { runMigrations } from '@tenantry/core/postgres';
import { ManualClock, isTenantryError } from '@tenantry/core';
import {
  type DataKeyStore,
  createFieldCrypto,
  describeValue,
  localKeyProvider,
} from '@tenantry/crypto-fields';
import { MemoryDataKeyStore } from '@tenantry/crypto-fields/memory';
import { PostgresDataKeyStore, cryptoFieldsMigrations } from '@tenantry/crypto-fields/postgres';
import { hasBackend, skipLabel, useTestDatabase } from '@tenantry/testkit';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it as plainIt } from 'vitest';
import { keyringOf } from '../src/tenant-keys.js';
import { KEK1, KEK2, asSystem, asTenant, ctx, itAsSystem as it, makeFields } from './helpers.js';

const codeOf = async (p: Promise<unknown>) =>
  p.then(
    () => 'NO_ERROR',
    (e) => (isTenantryError(e) ? e.code : `raw:${String(e)}`),
  );

/** Counts store reads, to see the cache at work without mocking the store. */
class CountingStore extends MemoryDataKeyStore {
  reads = 0;
  override async get(tenantId: string, keyId: string) {
    this.reads++;
    return super.get(tenantId, keyId);
  }
  override async getPrimary(tenantId: string, purpose: 'encrypt' | 'index') {
    this.reads++;
    return super.getPrimary(tenantId, purpose);
  }
}

const db = useTestDatabase();

const shreddingSuite = (name: string, makeStore: () => DataKeyStore, needsPg: boolean) =>
  describe.skipIf(needsPg && !hasBackend('postgres'))(
    `crypto-shredding [${name}]${needsPg ? skipLabel('postgres') : ''}`,
    () => {
      it("deleting a tenant's data keys makes every value of that tenant unreadable, and only that tenant's", async () => {
        const store = makeStore();
        const { fields } = makeFields({ store });
        const acme: string[] = [];
        for (let i = 0; i < 20; i++) acme.push(await fields.seal(`acme-${i}`, { ...ctx, rowId: `r${i}` }));
        await fields.keys.rotate('acme'); // values under two keys
        acme.push(await fields.seal('acme-after-rotation', { ...ctx, rowId: 'r99' }));
        const globex = await fields.seal('globex-secret', { ...ctx, tenantId: 'globex' });
        const idxBefore = await fields.blindIndex('ann@example.com', {
          tenantId: 'acme',
          collection: 'users',
          field: 'email',
        });

        expect(await fields.keys.shred('acme')).toBe(3); // two encryption keys + the blind-index key
        // The same instance (cache forgotten) and a fresh one (another process) both fail.
        const fresh = makeFields({ store }).fields;
        for (const f of [fields, fresh]) {
          for (const [i, c] of acme.entries()) {
            expect(await codeOf(f.open(c, { ...ctx, rowId: i < 20 ? `r${i}` : 'r99' }))).toBe(
              'CRYPTO_UNKNOWN_KEY_ID',
            );
          }
          expect(await f.open(globex, { ...ctx, tenantId: 'globex' })).toBe('globex-secret');
        }
        // Blind indexes cannot be recomputed either: a new index key gives different values.
        const idxAfter = await fresh.blindIndex('ann@example.com', {
          tenantId: 'acme',
          collection: 'users',
          field: 'email',
        });
        expect(idxAfter).not.toBe(idxBefore);
        // New writes for the tenant get a brand-new key.
        const again = await fresh.seal('new life', ctx);
        expect(await fresh.open(again, ctx)).toBe('new life');
      });
    },
  );

let pool: pg.Pool | undefined;
beforeAll(async () => {
  if (!hasBackend('postgres')) return;
  pool = new pg.Pool({ connectionString: db.url(), max: 4 });
  await runMigrations(pool, cryptoFieldsMigrations);
});
afterAll(async () => {
  await pool?.end();
});

shreddingSuite('memory', () => new MemoryDataKeyStore(), false);
shreddingSuite('postgres', () => new PostgresDataKeyStore({ pool: pool! }), true);

describe('keyring', () => {
  it('the primary key encrypts, older keys keep decrypting after rotation', async () => {
    const { fields } = makeFields();
    const before = await fields.seal('old', ctx);
    const oldKid = (await keyringOf(fields.keys).primary('acme')).keyId;
    const newKid = await fields.keys.rotate('acme');
    const after = await fields.seal('new', ctx);
    expect(describeValue(before)).toMatchObject({ keyId: oldKid });
    expect(describeValue(after)).toMatchObject({ keyId: newKid });
    expect(await fields.open(before, ctx)).toBe('old');
    expect(await fields.open(after, ctx)).toBe('new');
    const r = await fields.reseal(before, ctx);
    expect(r).toMatchObject({ fromKeyId: oldKid, toKeyId: newKid });
    expect(await fields.reseal(r.next!, ctx)).toMatchObject({ next: null });
    // retiring the old key makes the old ciphertext unreadable, the resealed one still opens
    expect(await fields.keys.retire('acme', oldKid)).toBe(true);
    expect(await codeOf(fields.open(before, ctx))).toBe('CRYPTO_UNKNOWN_KEY_ID');
    expect(await fields.open(r.next!, ctx)).toBe('old');
  });

  it('concurrent first use by many instances (processes) settles on one data key', async () => {
    const store = new MemoryDataKeyStore();
    const instances = Array.from({ length: 6 }, () => makeFields({ store }).fields);
    const cts = await Promise.all(instances.map((f, i) => f.seal(`v${i}`, ctx)));
    expect(new Set(cts.map((c) => (describeValue(c) as { keyId: string }).keyId)).size).toBe(1);
    for (const [i, c] of cts.entries()) expect(await instances[(i + 1) % 6]!.open(c, ctx)).toBe(`v${i}`);
  });

  it('caches unwrapped keys with a TTL and an LRU bound in tenants', async () => {
    const store = new CountingStore();
    const clock = new ManualClock('2026-01-01T00:00:00Z');
    const { fields } = makeFields({ store, clock, cache: { maxTenants: 4, ttlMs: 60_000 } });
    const c = await fields.seal('v', ctx);
    const reads = store.reads;
    for (let i = 0; i < 50; i++) await fields.open(c, ctx);
    expect(store.reads).toBe(reads); // all cache hits
    clock.advance(60_001);
    await fields.open(c, ctx);
    expect(store.reads).toBe(reads + 1); // expired → re-read once
    // Fill the cache past its bound with other tenants: acme's key is evicted (LRU).
    for (let t = 0; t < 4; t++) await fields.seal('x', { ...ctx, tenantId: `t${t}` });
    const r2 = store.reads;
    await fields.open(c, ctx);
    expect(store.reads).toBe(r2 + 1);
  });

  it('wrapped data keys are bound to tenant and key id: a key record moved to another tenant does not unwrap', async () => {
    const store = new MemoryDataKeyStore();
    const { fields } = makeFields({ store });
    await fields.seal('v', ctx);
    const rec = (await store.list('acme'))[0]!;
    await store.createPrimaryIfAbsent({ ...rec, tenantId: 'globex' });
    const code = await codeOf(makeFields({ store }).fields.seal('v', { ...ctx, tenantId: 'globex' }));
    expect(code).toBe('CRYPTO_KEY_PROVIDER_FAILED');
  });

  it('KEK rotation: a new primary KEK rewraps data keys; ciphertexts stay valid; the old KEK can then go', async () => {
    const store = new MemoryDataKeyStore();
    const v1 = createFieldCrypto({
      store,
      provider: localKeyProvider({ keys: { kek1: KEK1 }, primary: 'kek1' }),
    });
    const c = await v1.seal('survives', ctx);
    const both = createFieldCrypto({
      store,
      provider: localKeyProvider({ keys: { kek1: KEK1, kek2: KEK2 }, primary: 'kek2' }),
    });
    expect(await both.keys.rewrapAll()).toBe(1);
    expect((await store.list('acme')).map((r) => r.kekId)).toEqual(['kek2']);
    expect(await both.keys.rewrapAll()).toBe(0);
    const only2 = createFieldCrypto({
      store,
      provider: localKeyProvider({ keys: { kek2: KEK2 }, primary: 'kek2' }),
    });
    expect(await only2.open(c, ctx)).toBe('survives');
    // A process that only knows the retired KEK can no longer unwrap the data key.
    const only1 = createFieldCrypto({
      store,
      provider: localKeyProvider({ keys: { kek1: KEK1 }, primary: 'kek1' }),
    });
    expect(await codeOf(only1.open(c, ctx))).toBe('CRYPTO_KEY_PROVIDER_FAILED');
  });

  it('validates local provider configuration without echoing key material', () => {
    const bad = 'c2hvcnQ='; // "short"
    try {
      localKeyProvider({ keys: { k: bad }, primary: 'k' });
      expect.unreachable();
    } catch (e) {
      expect(isTenantryError(e, 'VALIDATION_FAILED')).toBe(true);
      expect(JSON.stringify(e)).not.toContain(bad);
      expect(String((e as Error).message)).not.toContain(bad);
    }
    expect(() => localKeyProvider({ keys: { k: KEK1 }, primary: 'other' })).toThrow(/primary/);
  });
});

describe('tenant resolution of the keyring (invariant T1, core resolveTenantId)', () => {
  plainIt('keys.rotate(x) outside any context refuses every x and creates no key', async () => {
    const { fields, store } = makeFields();
    const hostile: unknown[] = [undefined, null, 123, {}, () => 'acme', ['acme'], 'acme'];
    for (const x of hostile) {
      const code = await codeOf(fields.keys.rotate(x as string));
      expect(['TENANT_CONTEXT_MISSING', 'VALIDATION_FAILED']).toContain(code);
    }
    expect(await store.tenantsNotWrappedBy('none')).toEqual([]);
    expect(await codeOf(fields.keys.shred('acme'))).toBe('TENANT_CONTEXT_MISSING');
    expect(await codeOf(fields.keys.retire('acme', 'dk1'))).toBe('TENANT_CONTEXT_MISSING');
  });

  plainIt('inside the system scope, invalid tenant ids are VALIDATION_FAILED and create no key', async () => {
    const { fields, store } = makeFields();
    const hostile: unknown[] = [
      null,
      123,
      {},
      () => 'acme',
      ['acme'],
      '',
      'a\u0000b',
      'f\ud800',
      'x'.repeat(10_000_000),
    ];
    await asSystem(async () => {
      for (const x of hostile) {
        expect(await codeOf(fields.keys.rotate(x as string))).toBe('VALIDATION_FAILED');
        expect(await codeOf(fields.seal('v', { ...ctx, tenantId: x as string }))).toBe('VALIDATION_FAILED');
      }
    });
    expect(await store.tenantsNotWrappedBy('none')).toEqual([]);
  });

  plainIt('inside a tenant context, the keyring acts for that tenant only', async () => {
    const { fields, store } = makeFields();
    const kid = await asTenant('acme', () => fields.keys.rotate());
    expect((await store.list('acme')).map((r) => r.keyId)).toEqual([kid]);
    expect(await codeOf(asTenant('acme', () => fields.keys.rotate('globex')))).toBe(
      'TENANT_CONTEXT_CONFLICT',
    );
    expect(await codeOf(asTenant('acme', () => fields.keys.shred('globex')))).toBe('TENANT_CONTEXT_CONFLICT');
    expect(await store.list('globex')).toEqual([]);
  });

  plainIt('KEK rewrapping (every tenant) runs only inside runAsSystem', async () => {
    const { fields } = makeFields();
    expect(await codeOf(fields.keys.rewrapAll())).toBe('SYSTEM_SCOPE_REQUIRED');
    expect(await codeOf(asTenant('acme', () => fields.keys.rewrapAll()))).toBe('SYSTEM_SCOPE_REQUIRED');
    expect(await asSystem(() => fields.keys.rewrapAll())).toBe(0);
  });
});

describe('T4: cache keys are namespaced by tenant', () => {
  it("forgetting or rotating tenant 'acme' leaves the cached keys of 'acme2' alone (no prefix collision)", async () => {
    const store = new CountingStore();
    const { fields } = makeFields({ store });
    await fields.seal('v', ctx);
    await fields.seal('v', { ...ctx, tenantId: 'acme2' });
    const before = store.reads;
    fields.keys.forget('acme');
    await fields.keys.rotate('acme');
    await fields.seal('v', { ...ctx, tenantId: 'acme2' });
    expect(store.reads).toBe(before);
  });

  it("the key cache is per tenant: a cached key of one tenant never opens another tenant's claim", async () => {
    const { fields } = makeFields();
    const c = await fields.seal('acme-only', ctx); // acme's key is now cached under acme
    const kid = describeValue(c).kind === 'ciphertext' ? (describeValue(c) as { keyId: string }).keyId : '';
    // The same key id claimed for globex (same collection, field, row) is looked up under globex: unknown.
    expect(await codeOf(fields.open(c, { ...ctx, tenantId: 'globex' }))).toBe('CRYPTO_UNKNOWN_KEY_ID');
    expect(await codeOf(fields.keys.retire('globex', kid))).toBe('NO_ERROR');
    expect(await fields.open(c, ctx)).toBe('acme-only');
  });
});
