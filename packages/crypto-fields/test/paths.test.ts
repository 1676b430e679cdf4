import { isTenantryError } from '@tenantry/core';
import { parseFieldPath } from '@tenantry/crypto-fields';
import { describe, expect } from 'vitest';
import { itAsSystem as it, makeFields } from './helpers.js';

describe('declared field paths', () => {
  it('malformed or prototype-reaching paths are VALIDATION_FAILED, without quoting the path', () => {
    for (const bad of [
      '',
      'a..b',
      'a[]]',
      '1a',
      '__proto__.x',
      'a.constructor',
      'prototype[]',
      'x'.repeat(1001),
    ]) {
      let error: unknown;
      try {
        parseFieldPath(bad);
      } catch (e) {
        error = e;
      }
      expect(isTenantryError(error, 'VALIDATION_FAILED')).toBe(true);
      if (bad.length > 3) expect((error as Error).message).not.toContain(bad);
    }
    expect(parseFieldPath('webhooks[].secret').segments).toEqual([
      { key: 'webhooks', each: true },
      { key: 'secret', each: false },
    ]);
  });

  it('only own properties are sealed: an inherited value is left alone', async () => {
    const { fields } = makeFields();
    const proto = { password: 'inherited' };
    const doc = Object.create(proto) as Record<string, unknown>;
    doc.name = 'acme';
    const sealed = await fields.sealObject(doc, ['password'], { tenantId: 'acme', collection: 'c' });
    expect(Object.hasOwn(sealed, 'password')).toBe(false);
  });
});
