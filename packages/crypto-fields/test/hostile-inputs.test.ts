import { isTenantryError } from '@tenantry/core';
import {
  CryptoFieldsError,
  TenantKeys,
  describeValue,
  localKeyProvider,
  normalizeValue,
  parseFieldPath,
  runRotation,
} from '@tenantry/crypto-fields';
import { MemoryCheckpointStore, MemoryDataKeyStore } from '@tenantry/crypto-fields/memory';
import {
  MongoCheckpointStore,
  MongoDataKeyStore,
  createMongoDocumentCodec,
  ensureCryptoFieldsIndexes,
} from '@tenantry/crypto-fields/mongo';
import {
  PostgresCheckpointStore,
  PostgresDataKeyStore,
  PostgresRotationTarget,
  createPostgresRowCodec,
  cryptoFieldsSchemaSql,
} from '@tenantry/crypto-fields/postgres';
import { isSecret, secret, secretPaths } from '@tenantry/crypto-fields/zod';
import { describe, expect } from 'vitest';
import { KEK1, MemoryRotationTarget, ctx, itAsSystem as it, makeFields } from './helpers.js';

// Issue 11 items 16/17: every exported function, given a hostile value in any argument, resolves or
// fails with a Tenantry error that carries a code; never TypeError, RangeError or a driver error.
const deep = (n: number): unknown => {
  let o: unknown = { leaf: 'x' };
  for (let i = 0; i < n; i++) o = { a: o };
  return o;
};
const HOSTILE: Array<[string, unknown]> = [
  ['undefined', undefined],
  ['null', null],
  ['NaN', Number.NaN],
  ['bigint', 10n],
  ['symbol', Symbol('s')],
  ['function', () => 'acme'],
  ['empty string', ''],
  ['10 MB string', 'x'.repeat(10_000_000)],
  ['NUL', 'a\u0000b'],
  ['lone surrogate', 'f\ud800'],
  ['__proto__ object', JSON.parse('{"__proto__": {"polluted": true}, "tenantId": "acme"}')],
  ['array', ['acme']],
  ['10,000-deep object', deep(10_000)],
];

async function outcome(call: () => unknown): Promise<string> {
  try {
    await call();
    return 'ok';
  } catch (e) {
    return isTenantryError(e) ? `code:${e.code}` : `RAW ${(e as Error)?.name}: ${(e as Error)?.message}`;
  }
}

/** Call `make(h)` for every hostile value; nothing may escape without a code. */
async function expectTyped(name: string, make: (h: unknown) => unknown): Promise<void> {
  for (const [label, h] of HOSTILE) {
    const o = await outcome(() => make(h));
    expect(`${name} <- ${label}: ${o.startsWith('RAW') ? o : 'typed'}`).toBe(`${name} <- ${label}: typed`);
  }
}

describe('hostile inputs to every exported function', () => {
  it('the service: seal, open, sealJson, openJson, sealObject, openObject, reseal, blindIndex, describe', async () => {
    const { fields } = makeFields();
    const c = await fields.seal('v', ctx);
    const f = fields as unknown as Record<string, (...a: unknown[]) => unknown>;
    for (const m of ['seal', 'open', 'sealJson', 'openJson', 'reseal']) {
      await expectTyped(`${m}(h, ctx)`, (h) => f[m]!.call(fields, h, ctx));
      await expectTyped(`${m}(v, h)`, (h) => f[m]!.call(fields, m.startsWith('open') ? c : 'v', h));
      await expectTyped(`${m}(v, {…ctx, tenantId: h})`, (h) =>
        f[m]!.call(fields, 'v', { ...ctx, tenantId: h }),
      );
      await expectTyped(`${m}(v, {…ctx, field: h})`, (h) => f[m]!.call(fields, 'v', { ...ctx, field: h }));
    }
    for (const m of ['sealObject', 'openObject']) {
      await expectTyped(`${m}(h, paths, ctx)`, (h) => f[m]!.call(fields, h, ['a'], ctx));
      await expectTyped(`${m}(doc, h, ctx)`, (h) => f[m]!.call(fields, { a: 'x' }, h, ctx));
      await expectTyped(`${m}(doc, [h], ctx)`, (h) => f[m]!.call(fields, { a: 'x' }, [h], ctx));
      await expectTyped(`${m}(doc, paths, h)`, (h) => f[m]!.call(fields, { a: 'x' }, ['a'], h));
    }
    await expectTyped('blindIndex(h, ctx)', (h) => fields.blindIndex(h as string, ctx));
    await expectTyped('blindIndex(v, h)', (h) => fields.blindIndex('v', h as typeof ctx));
    await expectTyped('blindIndex(v, ctx, h)', (h) => fields.blindIndex('v', ctx, h as object));
    await expectTyped('blindIndex(v, ctx, {normalize: h})', (h) =>
      fields.blindIndex('v', ctx, { normalize: h as 'none' }),
    );
    await expectTyped('describe(h)', (h) => fields.describe(h as string));
  });

  it('the keyring: rotate, shred, retire, forget', async () => {
    const { fields } = makeFields();
    await expectTyped('keys.rotate(h)', (h) => fields.keys.rotate(h as string));
    await expectTyped('keys.rotate(acme, h)', (h) => fields.keys.rotate('acme', h as 'encrypt'));
    await expectTyped('keys.shred(h)', (h) => fields.keys.shred(h as string));
    await expectTyped('keys.retire(h, k)', (h) => fields.keys.retire(h as string, 'dk1'));
    await expectTyped('keys.retire(acme, h)', (h) => fields.keys.retire('acme', h as string));
    await expectTyped('keys.forget(h)', (h) => fields.keys.forget(h as string));
  });

  it('factories and helpers: createFieldCrypto, localKeyProvider, provider, normalizeValue, parseFieldPath, describeValue, zod helpers', async () => {
    const { createFieldCrypto } = await import('@tenantry/crypto-fields');
    await expectTyped('createFieldCrypto(h)', (h) => createFieldCrypto(h as never));
    await expectTyped('createFieldCrypto({store: h})', (h) =>
      createFieldCrypto({
        provider: localKeyProvider({ keys: { k: KEK1 }, primary: 'k' }),
        store: h as never,
      }),
    );
    await expectTyped('localKeyProvider(h)', (h) => localKeyProvider(h as never));
    const provider = localKeyProvider({ keys: { k: KEK1 }, primary: 'k' });
    const wc = { tenantId: 'acme', keyId: 'dk1', purpose: 'encrypt' as const };
    await expectTyped('provider.wrap(h, ctx)', (h) => provider.wrap(h as Uint8Array, wc));
    await expectTyped('provider.wrap(key, h)', (h) => provider.wrap(new Uint8Array(32), h as typeof wc));
    await expectTyped('provider.unwrap(h, ctx)', (h) => provider.unwrap(h as never, wc));
    await expectTyped('normalizeValue(h)', (h) => normalizeValue(h as string));
    await expectTyped('normalizeValue(v, h)', (h) => normalizeValue('v', h as 'none'));
    await expectTyped('parseFieldPath(h)', (h) => parseFieldPath(h as string));
    await expectTyped('describeValue(h)', (h) => describeValue(h as string));
    await expectTyped('secret(h)', (h) => secret(h as never));
    await expectTyped('isSecret(h)', (h) => isSecret(h as never));
    await expectTyped('secretPaths(h)', (h) => secretPaths(h as never));
  });

  it('backends and integrations: memory stores, runRotation, codecs, postgres and mongo constructors', async () => {
    const { fields } = makeFields();
    const store = new MemoryDataKeyStore();
    const s = store as unknown as Record<string, (...a: unknown[]) => unknown>;
    for (const m of ['createPrimaryIfAbsent', 'promote', 'list', 'deleteTenant', 'tenantsNotWrappedBy']) {
      await expectTyped(`memoryStore.${m}(h)`, (h) => s[m]!.call(store, h));
    }
    for (const m of ['get', 'deleteKey']) {
      await expectTyped(`memoryStore.${m}(h, k)`, (h) => s[m]!.call(store, h, 'dk1'));
      await expectTyped(`memoryStore.${m}(t, h)`, (h) => s[m]!.call(store, 'acme', h));
    }
    await expectTyped('memoryStore.getPrimary(t, h)', (h) => store.getPrimary('acme', h as 'encrypt'));
    await expectTyped('memoryStore.rewrap(t, k, kek, h)', (h) =>
      store.rewrap('acme', 'dk1', 'k', h as never),
    );
    const cps = new MemoryCheckpointStore();
    await expectTyped('checkpoints.load(h)', (h) => cps.load(h as string));
    await expectTyped('checkpoints.save(j, h)', (h) => cps.save('j', h as never));
    await expectTyped('checkpoints.clear(h)', (h) => cps.clear(h as string));
    const target = new MemoryRotationTarget('settings', ['f'], []);
    await expectTyped('runRotation(h)', (h) => runRotation(h as never));
    await expectTyped('runRotation({jobId: h})', (h) =>
      runRotation({ fields, target, checkpoints: cps, jobId: h as string }),
    );
    await expectTyped('runRotation({target: h})', (h) =>
      runRotation({ fields, target: h as never, checkpoints: cps, jobId: 'j' }),
    );
    await expectTyped('runRotation({tenantId: h})', (h) =>
      runRotation({ fields, target, checkpoints: cps, jobId: 'j2', tenantId: h as string }),
    );
    await expectTyped('createPostgresRowCodec(f, h)', (h) => createPostgresRowCodec(fields, h as never));
    const codec = createPostgresRowCodec(fields, {
      collection: 'users',
      columns: ['email'],
      bindRowId: true,
    });
    await expectTyped('rowCodec.encryptRow(h)', (h) => codec.encryptRow(h as never));
    await expectTyped('rowCodec.encryptRow(row, h)', (h) =>
      codec.encryptRow({ id: '1', email: 'e' }, h as never),
    );
    await expectTyped('rowCodec.decryptRow(h)', (h) => codec.decryptRow(h as never));
    await expectTyped('rowCodec.blindIndex(h, v)', (h) => codec.blindIndex(h as string, 'v'));
    await expectTyped('createMongoDocumentCodec(f, h)', (h) => createMongoDocumentCodec(fields, h as never));
    const mcodec = createMongoDocumentCodec(fields, { collection: 'c', paths: ['a'] });
    await expectTyped('mongoCodec.encryptDocument(h)', (h) => mcodec.encryptDocument(h as never));
    await expectTyped('mongoCodec.decryptDocument(d, h)', (h) =>
      mcodec.decryptDocument({ a: 'x' }, h as never),
    );
    await expectTyped('new PostgresDataKeyStore(h)', (h) => new PostgresDataKeyStore(h as never));
    await expectTyped('new PostgresCheckpointStore(h)', (h) => new PostgresCheckpointStore(h as never));
    await expectTyped('new PostgresRotationTarget(h)', (h) => new PostgresRotationTarget(h as never));
    await expectTyped('cryptoFieldsSchemaSql(h)', (h) => cryptoFieldsSchemaSql(h as never));
    await expectTyped('ensureCryptoFieldsIndexes(h)', (h) => ensureCryptoFieldsIndexes(h as never));
    await expectTyped('new MongoDataKeyStore(h)', (h) => new MongoDataKeyStore(h as never));
    await expectTyped('new MongoCheckpointStore(h)', (h) => new MongoCheckpointStore(h as never));
    await expectTyped('new MongoDataKeyStore({ db, collection: h })', (h) => {
      new MongoDataKeyStore({ db: { collection: () => ({}) } as never, collection: h as never });
      if (h !== undefined && (typeof h !== 'string' || h.length === 0 || h.length > 120))
        throw new Error('accepted');
    });
  });

  it('classes and errors: new TenantKeys(h), its cache options, and CryptoFieldsError on odd arguments', async () => {
    await expectTyped('new TenantKeys(h)', (h) => new TenantKeys(h as never));
    const provider = localKeyProvider({ keys: { k1: KEK1 }, primary: 'k1' });
    const store = new MemoryDataKeyStore();
    await expectTyped('new TenantKeys({ provider, store, cache: h })', (h) => {
      new TenantKeys({ provider, store, cache: h as never });
      if (h !== undefined && !(typeof h === 'object' && h !== null && !Array.isArray(h)))
        throw new Error('accepted');
    });
    await expectTyped('new TenantKeys({ provider: h, store })', (h) => {
      new TenantKeys({ provider: h as never, store });
      throw new Error('accepted');
    });
    const e = new CryptoFieldsError(Symbol('c') as never, Symbol('m') as never, null as never);
    expect(isTenantryError(e)).toBe(true);
    expect(typeof e.code).toBe('string');
  });
});
