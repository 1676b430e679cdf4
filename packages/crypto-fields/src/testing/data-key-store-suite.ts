/**
 * Conformance suite of the {@link DataKeyStore} port. Run it against your own backend with your test
 * runner's functions (this module imports no test runner):
 * @example
 * import { describe, expect, it } from 'vitest';
 * dataKeyStoreConformance(() => ({ store: myStore }), { describe, it, expect });
 */
import { randomBytes } from 'node:crypto';
import type { SuiteApi } from '@tenantry/core/testing';
import type { DataKeyRecord, DataKeyStore } from '../data-key-store.js';
import type { DataKeyPurpose } from '../key-provider.js';

/**
 * What the data key store suite needs. Harness contract: the suite calls `harness()` once per test,
 * inside the test; it may return a fresh store each time or a shared one (every test uses its own
 * random tenant ids and never relies on what another test left behind). Tables or indexes must exist
 * (run the migrations / `ensureCryptoFieldsIndexes` before).
 */
export interface DataKeyStoreHarness {
  store: DataKeyStore;
}

const uid = (p: string) => `${p}_${randomBytes(6).toString('hex')}`;
const rec = (tenantId: string, purpose: DataKeyPurpose = 'encrypt', kekId = 'kek1'): DataKeyRecord => ({
  tenantId,
  keyId: uid('dk'),
  purpose,
  kekId,
  wrappedKey: randomBytes(56).toString('base64url'),
  primary: true,
  createdAt: new Date(Math.floor(Date.now() / 1000) * 1000),
});

/**
 * The {@link DataKeyStore} contract: one primary per tenant and purpose even under concurrent
 * creation, atomic promotion, conditional rewrap, refusal to delete a primary, and crypto-shredding.
 * Call inside a `describe`; `harness()` is valid inside tests.
 */
export function dataKeyStoreConformance(harness: () => DataKeyStoreHarness, api: SuiteApi): void {
  const { describe, it, expect } = api;
  describe('DataKeyStore conformance', () => {
    it('createPrimaryIfAbsent: the first record wins, later ones get the existing primary', async () => {
      const { store } = harness();
      const t = uid('t');
      const a = rec(t);
      expect(await store.createPrimaryIfAbsent(a)).toEqual(a);
      const b = rec(t);
      expect((await store.createPrimaryIfAbsent(b)).keyId).toBe(a.keyId);
      expect(await store.get(t, b.keyId)).toBeNull();
      expect(await store.getPrimary(t, 'encrypt')).toEqual(a);
      expect(await store.getPrimary(t, 'index')).toBeNull();
    });

    it('concurrent createPrimaryIfAbsent calls agree on one primary', async () => {
      const { store } = harness();
      const t = uid('t');
      const results = await Promise.all(Array.from({ length: 8 }, () => store.createPrimaryIfAbsent(rec(t))));
      expect(new Set(results.map((r) => r.keyId)).size).toBe(1);
      expect((await store.list(t)).length).toBe(1);
    });

    it('purposes are independent and tenants never share keys', async () => {
      const { store } = harness();
      const t1 = uid('t');
      const t2 = uid('t');
      const e = await store.createPrimaryIfAbsent(rec(t1, 'encrypt'));
      const i = await store.createPrimaryIfAbsent(rec(t1, 'index'));
      expect(e.keyId).not.toBe(i.keyId);
      expect(await store.get(t2, e.keyId)).toBeNull();
      expect(await store.list(t2)).toEqual([]);
    });

    it('promote makes the new key primary and keeps the old one readable', async () => {
      const { store } = harness();
      const t = uid('t');
      const a = await store.createPrimaryIfAbsent(rec(t));
      const b = { ...rec(t), createdAt: new Date(a.createdAt.getTime() + 1000) };
      await store.promote(b);
      expect((await store.getPrimary(t, 'encrypt'))?.keyId).toBe(b.keyId);
      expect((await store.get(t, a.keyId))?.primary).toBe(false);
      expect((await store.list(t)).map((r) => r.keyId)).toEqual([a.keyId, b.keyId]);
    });

    it('concurrent promotes leave exactly one primary', async () => {
      const { store } = harness();
      const t = uid('t');
      await store.createPrimaryIfAbsent(rec(t));
      await Promise.all(Array.from({ length: 5 }, () => store.promote(rec(t))));
      const all = await store.list(t);
      expect(all.length).toBe(6);
      expect(all.filter((r) => r.primary).length).toBe(1);
    });

    it('rewrap is conditional on the expected KEK', async () => {
      const { store } = harness();
      const t = uid('t');
      const a = await store.createPrimaryIfAbsent(rec(t, 'encrypt', 'old'));
      expect(await store.tenantsNotWrappedBy('new')).toContain(t);
      expect(await store.rewrap(t, a.keyId, 'other', { kekId: 'new', wrappedKey: 'x' })).toBe(false);
      expect(await store.rewrap(t, a.keyId, 'old', { kekId: 'new', wrappedKey: 'w2' })).toBe(true);
      expect(await store.get(t, a.keyId)).toMatchObject({ kekId: 'new', wrappedKey: 'w2' });
      expect(await store.tenantsNotWrappedBy('new')).not.toContain(t);
    });

    it('deleteKey refuses the primary and deletes a retired key', async () => {
      const { store } = harness();
      const t = uid('t');
      const a = await store.createPrimaryIfAbsent(rec(t));
      expect(await store.deleteKey(t, a.keyId)).toBe(false);
      const b = rec(t);
      await store.promote(b);
      expect(await store.deleteKey(t, a.keyId)).toBe(true);
      expect(await store.get(t, a.keyId)).toBeNull();
      expect(await store.deleteKey(t, a.keyId)).toBe(false);
    });

    it('deleteTenant removes every key of that tenant only (crypto-shredding)', async () => {
      const { store } = harness();
      const t = uid('t');
      const other = uid('t');
      await store.createPrimaryIfAbsent(rec(t));
      await store.promote(rec(t));
      await store.createPrimaryIfAbsent(rec(t, 'index'));
      const keep = await store.createPrimaryIfAbsent(rec(other));
      expect(await store.deleteTenant(t)).toBe(3);
      expect(await store.list(t)).toEqual([]);
      expect(await store.getPrimary(t, 'encrypt')).toBeNull();
      expect(await store.get(other, keep.keyId)).toEqual(keep);
    });
  });
}
