import fc from 'fast-check';
import { isTenantryError } from '@tenantry/core';
import { describe, expect } from 'vitest';
import { makeFields, itAsSystem as it } from './helpers.js';

const part = fc.string({ minLength: 1, maxLength: 12 });
// Tenant ids are core's TenantId: 1-128 chars of [A-Za-z0-9._-], starting alphanumeric.
const tenantId = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,11}$/);
const context = fc.record({
  tenantId,
  collection: part,
  field: part,
  rowId: fc.option(part, { nil: undefined }),
});
const { fields } = makeFields();
const json = <T>(v: T): T => JSON.parse(JSON.stringify(v));

describe('property-based', () => {
  it('seal/open round-trips any string in any context, and any other context refuses it', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: 'binary' }), context, context, async (value, a, b) => {
        const c = await fields.seal(value, a);
        expect(await fields.open(c, a)).toBe(value);
        const other = { ...b, tenantId: a.tenantId };
        const same = other.collection === a.collection && other.field === a.field && other.rowId === a.rowId;
        if (!same) {
          const err = await fields.open(c, other).catch((e) => e);
          expect(isTenantryError(err, 'CRYPTO_DECRYPT_FAILED')).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('any JSON value round-trips through sealJson/openJson', async () => {
    await fc.assert(
      fc.asyncProperty(fc.jsonValue(), context, async (value, ctx) => {
        expect(await fields.openJson(await fields.sealJson(value, ctx), ctx)).toEqual(json(value));
      }),
      { numRuns: 200 },
    );
  });

  it('sealObject/openObject round-trips documents with arbitrary keys, nesting and arrays', async () => {
    const key = fc.stringMatching(/^[a-z_][a-z0-9_]{0,7}$/);
    await fc.assert(
      fc.asyncProperty(
        key,
        key,
        key,
        fc.jsonValue(),
        fc.option(fc.string(), { nil: undefined }),
        fc.array(fc.record({ s: fc.jsonValue(), keep: fc.integer() }), { maxLength: 5 }),
        async (k1, k2, k3, top, nested, list) => {
          fc.pre(new Set([k1, k2, k3]).size === 3);
          const doc = { [k1]: top, [k2]: { inner: nested, plain: 1 }, [k3]: list };
          const paths = [k1, `${k2}.inner`, `${k3}[].s`];
          const at = { tenantId: 't', collection: 'docs', rowId: 'r' };
          const sealed = await fields.sealObject(doc, paths, at);
          // every non-null declared value is a ciphertext, everything else unchanged
          for (const el of sealed[k3] as Array<{ s: unknown; keep: number }>) {
            if (el.s !== null) expect(String(el.s).startsWith('tcf1:')).toBe(true);
          }
          expect((sealed[k2] as { plain: number }).plain).toBe(1);
          expect(await fields.openObject(sealed, paths, at)).toEqual(json(doc));
        },
      ),
      { numRuns: 150 },
    );
  });

  it('any in-place character change of a ciphertext is rejected', async () => {
    const c = await fields.seal('property tamper', { tenantId: 't', collection: 'c', field: 'f' });
    await fc.assert(
      fc.asyncProperty(
        fc.nat(c.length - 1),
        fc.string({ minLength: 1, maxLength: 1, unit: 'binary' }),
        async (i, ch) => {
          fc.pre(c[i] !== ch);
          const t = c.slice(0, i) + ch + c.slice(i + 1);
          const err = await fields.open(t, { tenantId: 't', collection: 'c', field: 'f' }).catch((e) => e);
          expect(isTenantryError(err)).toBe(true);
          expect(['CRYPTO_DECRYPT_FAILED', 'CRYPTO_UNKNOWN_KEY_ID', 'CRYPTO_PLAINTEXT_REJECTED']).toContain(
            err.code,
          );
        },
      ),
      { numRuns: 500 },
    );
  });
});
