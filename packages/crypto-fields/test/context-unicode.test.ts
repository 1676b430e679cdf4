import { isTenantryError } from '@tenantry/core';
import { describe, expect } from 'vitest';
import { ctx, itAsSystem as it, makeFields } from './helpers.js';

const codeOf = async (p: Promise<unknown>) =>
  p.then(
    () => 'NO_ERROR',
    (e) => (isTenantryError(e) ? e.code : `raw:${String(e)}`),
  );

// Issue 11 item 9: a lone surrogate has no UTF-8 form and is encoded as U+FFFD, so "f\ud800",
// "f\udc00" and "f\ufffd" used to bind the same context. Every context part is refused unless it is
// well-formed Unicode.
describe('context parts must be well-formed Unicode', () => {
  const lone = ['f\ud800', 'f\udc00', '\ud83d', 'a\udfffb'];

  it('a lone surrogate in collection, field or row id is VALIDATION_FAILED on seal, open and blindIndex', async () => {
    const { fields } = makeFields();
    const good = await fields.seal('v', ctx);
    for (const bad of lone) {
      for (const part of ['collection', 'field', 'rowId'] as const) {
        const at = { ...ctx, [part]: bad };
        expect(`${part}: ${await codeOf(fields.seal('v', at))}`).toBe(`${part}: VALIDATION_FAILED`);
        expect(`${part}: ${await codeOf(fields.open(good, at))}`).toBe(`${part}: VALIDATION_FAILED`);
        expect(`${part}: ${await codeOf(fields.sealJson(1, at))}`).toBe(`${part}: VALIDATION_FAILED`);
      }
      const { rowId: _, ...noRow } = { ...ctx, field: bad };
      expect(await codeOf(fields.blindIndex('x', noRow))).toBe('VALIDATION_FAILED');
      expect(await codeOf(fields.sealObject({ a: 'x' }, ['a'], { ...ctx, collection: bad }))).toBe(
        'VALIDATION_FAILED',
      );
    }
  });

  it('a value sealed for field "f\\ufffd" does not open as "f\\ud800" (no two contexts encode alike)', async () => {
    const { fields } = makeFields();
    const c = await fields.seal('v', { ...ctx, field: 'f\ufffd' });
    expect(await codeOf(fields.open(c, { ...ctx, field: 'f\ud800' }))).toBe('VALIDATION_FAILED');
    expect(await fields.open(c, { ...ctx, field: 'f\ufffd' })).toBe('v');
  });

  it('well-formed non-ASCII parts (astral characters, U+FFFD itself) keep working', async () => {
    const { fields } = makeFields();
    for (const part of ['😀', 'naïve', '\ufffd', '日本']) {
      const at = { ...ctx, collection: part, field: `f${part}`, rowId: `r${part}` };
      expect(await fields.open(await fields.seal('v', at), at)).toBe('v');
    }
  });

  it('blind index inputs: lone surrogates, non-strings and over-long values are VALIDATION_FAILED', async () => {
    const { fields } = makeFields();
    const at = { tenantId: 'acme', collection: 'users', field: 'email' };
    for (const bad of ['a\ud800', 123, null, undefined, Symbol('x'), {}, 'x'.repeat(65_537)]) {
      expect(await codeOf(fields.blindIndex(bad as string, at))).toBe('VALIDATION_FAILED');
    }
    expect(await codeOf(fields.blindIndex('a', at, { normalize: () => 'b\udc00' }))).toBe(
      'VALIDATION_FAILED',
    );
    expect(
      await codeOf(
        fields.blindIndex('a', at, {
          normalize: () => {
            throw new TypeError('boom');
          },
        }),
      ),
    ).toBe('VALIDATION_FAILED');
    expect(await fields.blindIndex('Ann😀', at)).toBe(await fields.blindIndex(' ann😀 ', at));
  });
});
