import { normalizeValue } from '@tenantry/crypto-fields';
import { describe, expect } from 'vitest';
import { makeFields, itAsSystem as it } from './helpers.js';

const at = { tenantId: 'acme', collection: 'users', field: 'email' };

describe('blind indexes', () => {
  it('are deterministic per tenant and field, and equal for equal normalised values', async () => {
    const { fields } = makeFields();
    const a = await fields.blindIndex('Ann@Example.com ', at);
    expect(await fields.blindIndex('ann@example.com', at)).toBe(a);
    expect(await fields.blindIndex('ann@example.org', at)).not.toBe(a);
    expect(await fields.blindIndex('ann@example.com', { ...at, field: 'backupEmail' })).not.toBe(a);
    expect(await fields.blindIndex('ann@example.com', { ...at, collection: 'leads' })).not.toBe(a);
    expect(await fields.blindIndex('ann@example.com', { ...at, tenantId: 'globex' })).not.toBe(a);
    // a second instance sharing the store computes the same index (the key lives in the store)
    expect(
      await makeFields({ store: await Promise.resolve(fields.keys.store) }).fields.blindIndex(
        'ann@example.com',
        at,
      ),
    ).toBe(a);
  });

  it('never share a field key between two fields whose names differ only in where a NUL falls', async () => {
    // (collection 'a\0b', field 'c') and (collection 'a', field 'b\0c') derive different keys; the
    // per-tenant cache of field keys must not hand one the other's.
    const first = { tenantId: 'acme', collection: 'a\u0000b', field: 'c' };
    const second = { tenantId: 'acme', collection: 'a', field: 'b\u0000c' };
    const { fields } = makeFields();
    const one = await fields.blindIndex('x', first);
    const two = await fields.blindIndex('x', second);
    expect(two).not.toBe(one);
    // The same in a fresh process (no cache): each index depends on its own field only.
    const fresh = makeFields({ store: fields.keys.store, provider: undefined }).fields;
    expect(await fresh.blindIndex('x', second)).toBe(two);
  });

  it('truncate to the configured length and reveal nothing of the value', async () => {
    const { fields } = makeFields();
    for (const bytes of [8, 16, 32]) {
      const idx = await fields.blindIndex(
        '123-45-6789',
        { ...at, field: 'ssn' },
        { bytes, normalize: 'digits' },
      );
      expect(Buffer.from(idx, 'base64url').length).toBe(bytes);
    }
    expect(await fields.blindIndex('123 45 6789', { ...at, field: 'ssn' }, { normalize: 'digits' })).toBe(
      await fields.blindIndex('123-45-6789', { ...at, field: 'ssn' }, { normalize: 'digits' }),
    );
    await expect(fields.blindIndex('x', at, { bytes: 4 })).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
    });
  });

  it('normalise with NFC first', () => {
    expect(normalizeValue('Cafe\u0301', 'none')).toBe('Caf\u00e9');
    expect(normalizeValue(' A ', 'trim')).toBe('A');
    expect(normalizeValue('x', (v) => `${v}!`)).toBe('x!');
  });
});
