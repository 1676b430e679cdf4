import { isTenantryError, runAsTenant } from '@tenantry/core';
import { describeValue } from '@tenantry/crypto-fields';
import { describe, expect, it as plainIt } from 'vitest';
import { keyringOf } from '../src/tenant-keys.js';
import { asSystem, ctx, itAsSystem as it, makeFields } from './helpers.js';

const codeOf = async (p: Promise<unknown>): Promise<string> => {
  try {
    await p;
  } catch (e) {
    if (isTenantryError(e)) return e.code;
    throw e;
  }
  return 'NO_ERROR';
};

describe.each(['xchacha20-poly1305', 'aes-256-gcm'] as const)('seal/open with %s', (algorithm) => {
  const { fields } = makeFields({ algorithm });

  it('round-trips strings, including empty and non-ASCII ones', async () => {
    for (const v of ['', 'sk_live_123', 'ünïcødé ✓ 🔑', 'x'.repeat(70_000)]) {
      const c = await fields.seal(v, ctx);
      expect(c.startsWith(`tcf1:${algorithm === 'aes-256-gcm' ? 'g' : 'x'}:`)).toBe(true);
      expect(c).not.toContain(v.slice(0, 20) || '\u0000');
      expect(await fields.open(c, ctx)).toBe(v);
    }
  });

  it('uses a fresh nonce per seal: equal plaintexts give different ciphertexts', async () => {
    const a = await fields.seal('same', ctx);
    const b = await fields.seal('same', ctx);
    expect(a).not.toBe(b);
  });

  it('describes itself: format version, algorithm, key id', async () => {
    const c = await fields.seal('v', ctx);
    const d = describeValue(c);
    expect(d).toMatchObject({ kind: 'ciphertext', formatVersion: 1, algorithm });
    const primary = await keyringOf(fields.keys).primary('acme');
    expect(d.kind === 'ciphertext' && d.keyId).toBe(primary.keyId);
  });

  it('rejects every single-bit flip of the ciphertext text with CRYPTO_DECRYPT_FAILED, CRYPTO_UNKNOWN_KEY_ID or CRYPTO_PLAINTEXT_REJECTED', async () => {
    const c = await fields.seal('hunter2-secret', ctx);
    const bytes = Buffer.from(c, 'latin1');
    const seen = new Map<string, number>();
    for (let i = 0; i < bytes.length; i++) {
      for (let bit = 0; bit < 8; bit++) {
        const flipped = Buffer.from(bytes);
        flipped[i]! ^= 1 << bit;
        const code = await codeOf(fields.open(flipped.toString('latin1'), ctx));
        seen.set(code, (seen.get(code) ?? 0) + 1);
        expect(['CRYPTO_DECRYPT_FAILED', 'CRYPTO_UNKNOWN_KEY_ID', 'CRYPTO_PLAINTEXT_REJECTED']).toContain(
          code,
        );
      }
    }
    expect(seen.get('CRYPTO_DECRYPT_FAILED')).toBeGreaterThan(bytes.length * 6);
  });

  it('rejects every truncation', async () => {
    const c = await fields.seal('truncate me', ctx);
    for (let n = 0; n < c.length; n++) {
      const code = await codeOf(fields.open(c.slice(0, n), ctx));
      expect(['CRYPTO_DECRYPT_FAILED', 'CRYPTO_PLAINTEXT_REJECTED', 'CRYPTO_UNKNOWN_KEY_ID']).toContain(code);
    }
    expect(await codeOf(fields.open(`${c}A`, ctx))).toBe('CRYPTO_DECRYPT_FAILED');
  });

  it('refuses a ciphertext moved to another tenant, collection, field or row (context swap)', async () => {
    const c = await fields.seal('bound', ctx);
    // the other tenant must exist with its own keys for the swap to reach decryption
    await fields.seal('x', { ...ctx, tenantId: 'globex' });
    expect(await codeOf(fields.open(c, { ...ctx, tenantId: 'globex' }))).toBe('CRYPTO_UNKNOWN_KEY_ID');
    expect(await codeOf(fields.open(c, { ...ctx, collection: 'users' }))).toBe('CRYPTO_DECRYPT_FAILED');
    expect(await codeOf(fields.open(c, { ...ctx, field: 'apiKey' }))).toBe('CRYPTO_DECRYPT_FAILED');
    expect(await codeOf(fields.open(c, { ...ctx, rowId: 'row-2' }))).toBe('CRYPTO_DECRYPT_FAILED');
    expect(await codeOf(fields.open(c, { ...ctx, rowId: undefined }))).toBe('CRYPTO_DECRYPT_FAILED');
    // length-prefixing: moving characters between parts changes the context
    const c2 = await fields.seal('v', { tenantId: 'acme', collection: 'ab', field: 'c' });
    expect(await codeOf(fields.open(c2, { tenantId: 'acme', collection: 'a', field: 'bc' }))).toBe(
      'CRYPTO_DECRYPT_FAILED',
    );
  });

  it('refuses a ciphertext under another key with the same key id (wrong key, key commitment)', async () => {
    const other = makeFields({ algorithm }).fields;
    const c = await fields.seal('mine', ctx);
    const kid = (await keyringOf(fields.keys).primary('acme')).keyId;
    const theirs = await other.seal('theirs', ctx);
    const theirKid = (await keyringOf(other.keys).primary('acme')).keyId;
    // Graft the other instance's body under our key id: commitment mismatch → CRYPTO_DECRYPT_FAILED.
    const grafted = theirs.replace(`:${theirKid}:`, `:${kid}:`);
    expect(await codeOf(fields.open(grafted, ctx))).toBe('CRYPTO_DECRYPT_FAILED');
    expect(await codeOf(other.open(c, ctx))).toBe('CRYPTO_UNKNOWN_KEY_ID');
  });

  it('refuses another tenant’s value right after opening it for its own tenant (the parsing shortcut keeps the tenant check)', async () => {
    const mine = await fields.seal('bound', ctx);
    const theirs = await fields.seal('theirs', { ...ctx, tenantId: 'globex' });
    const kid = (await keyringOf(fields.keys).primary('acme')).keyId;
    const theirKid = (await keyringOf(fields.keys).primary('globex')).keyId;
    for (let i = 0; i < 3; i++) {
      expect(await fields.open(mine, ctx)).toBe('bound');
      // The last header opened is acme's: globex still looks the key up for itself.
      expect(await codeOf(fields.open(mine, { ...ctx, tenantId: 'globex' }))).toBe('CRYPTO_UNKNOWN_KEY_ID');
      expect(await fields.open(theirs, { ...ctx, tenantId: 'globex' })).toBe('theirs');
      // acme's body under globex's key id, right after globex's header was opened: key commitment.
      const grafted = mine.replace(`:${kid}:`, `:${theirKid}:`);
      expect(await codeOf(fields.open(grafted, { ...ctx, tenantId: 'globex' }))).toBe(
        'CRYPTO_DECRYPT_FAILED',
      );
    }
  });

  it('reports an unknown key id distinctly', async () => {
    const c = await fields.seal('v', ctx);
    const kid = (await keyringOf(fields.keys).primary('acme')).keyId;
    expect(await codeOf(fields.open(c.replace(kid, 'dkNOPE'), ctx))).toBe('CRYPTO_UNKNOWN_KEY_ID');
  });
});

describe('context and plaintext handling', () => {
  plainIt(
    'takes the tenant from the current tenant context and refuses another tenant inside it',
    async () => {
      const { fields } = makeFields();
      const actor = { id: 'u1', roles: ['ADMIN'] };
      const c = await runAsTenant({ tenantId: 'acme', actor }, () =>
        fields.seal('v', { collection: 'settings', field: 'f' }),
      );
      expect(
        await asSystem(() => fields.open(c, { tenantId: 'acme', collection: 'settings', field: 'f' })),
      ).toBe('v');
      expect(await codeOf(fields.seal('v', { collection: 'settings', field: 'f' }))).toBe(
        'TENANT_CONTEXT_MISSING',
      );
      // Naming a tenant outside any context is refused too: back-office code uses runAsSystem.
      expect(await codeOf(fields.open(c, { tenantId: 'acme', collection: 'settings', field: 'f' }))).toBe(
        'TENANT_CONTEXT_MISSING',
      );
      const conflict = runAsTenant({ tenantId: 'acme', actor }, () =>
        fields.open(c, { tenantId: 'globex', collection: 'settings', field: 'f' }),
      );
      expect(await codeOf(conflict)).toBe('TENANT_CONTEXT_CONFLICT');
    },
  );

  it('validates the context with VALIDATION_FAILED', async () => {
    const { fields } = makeFields();
    expect(await codeOf(fields.seal('v', { tenantId: 'acme', collection: '', field: 'f' }))).toBe(
      'VALIDATION_FAILED',
    );
  });

  it('rejects plaintext by default and reads it through with acceptPlaintext (migration)', async () => {
    const strict = makeFields().fields;
    expect(await codeOf(strict.open('legacy-plain', ctx))).toBe('CRYPTO_PLAINTEXT_REJECTED');
    const lenient = makeFields({ acceptPlaintext: true }).fields;
    expect(await lenient.open('legacy-plain', ctx)).toBe('legacy-plain');
    expect(describeValue('legacy-plain')).toEqual({ kind: 'plaintext' });
    const migrated = await lenient.reseal('legacy-plain', ctx);
    expect(migrated.fromKeyId).toBeNull();
    expect(await strict.open(migrated.next!, ctx).catch((e) => e.code)).toBe('CRYPTO_UNKNOWN_KEY_ID');
    expect(await lenient.open(migrated.next!, ctx)).toBe('legacy-plain');
  });

  it('refuses strings with a lone surrogate instead of altering them', async () => {
    const { fields } = makeFields();
    expect(await codeOf(fields.seal('ab\uD800cd', ctx))).toBe('CRYPTO_UNSEALABLE_VALUE');
    expect(await fields.open(await fields.seal('ok \uD83D\uDD11', ctx), ctx)).toBe('ok \uD83D\uDD11');
  });

  it('seals JSON values with their type', async () => {
    const { fields } = makeFields();
    for (const v of [42, true, { a: [1, 'x'] }, 'str', null]) {
      expect(await fields.openJson(await fields.sealJson(v, ctx), ctx)).toEqual(v);
    }
  });
});

// Issue 11 item 11: a loaded document saved again used to wrap its ciphertexts a second time, and
// openObject then returned ciphertext strings. Rule: an existing ciphertext is kept as it is only when
// it authenticates under this exact context; any other tcf1: value is refused (CRYPTO_ALREADY_SEALED).
describe('sealing a value that already is a ciphertext', () => {
  it('seal and sealJson keep a ciphertext of this exact context, unchanged', async () => {
    const { fields } = makeFields();
    const c = await fields.seal('s3cret', ctx);
    expect(await fields.seal(c, ctx)).toBe(c);
    expect(await fields.sealJson(c, ctx)).toBe(c);
    expect(await fields.open(await fields.seal(c, ctx), ctx)).toBe('s3cret');
    const j = await fields.sealJson({ a: 1 }, ctx);
    expect(await fields.sealJson(j, ctx)).toBe(j);
    // Under an older key of the same tenant too (it still authenticates).
    await fields.keys.rotate('acme');
    expect(await fields.seal(c, ctx)).toBe(c);
  });

  it('a ciphertext of another field, row, collection or tenant, tampered or fake, is refused', async () => {
    const { fields } = makeFields();
    const c = await fields.seal('s3cret', ctx);
    const others = [
      { ...ctx, field: 'other' },
      { ...ctx, rowId: 'row-2' },
      { ...ctx, collection: 'other' },
      { ...ctx, tenantId: 'globex' },
    ];
    for (const o of others) {
      expect(await codeOf(fields.seal(c, o))).toBe('CRYPTO_ALREADY_SEALED');
      expect(await codeOf(fields.sealJson(c, o))).toBe('CRYPTO_ALREADY_SEALED');
    }
    const tampered = `${c.slice(0, -2)}${c.endsWith('A') ? 'B' : 'A'}${c.slice(-1)}`;
    for (const bad of [tampered, 'tcf1:', 'tcf1:x:dk1:AAAA', 'tcf1:plain text that looks sealed']) {
      expect(await codeOf(fields.seal(bad, ctx))).toBe('CRYPTO_ALREADY_SEALED');
    }
    // Strings that merely contain the prefix elsewhere are ordinary plaintext.
    expect(await fields.open(await fields.seal('x tcf1:', ctx), ctx)).toBe('x tcf1:');
  });

  it('sealObject on a loaded document (re-save) keeps its ciphertexts, so openObject returns plaintexts', async () => {
    const { fields } = makeFields();
    const paths = ['smtp.password', 'webhooks[].secret'];
    const at = { tenantId: 'acme', collection: 'settings', rowId: 'row-1' };
    const doc = { smtp: { host: 'h', password: 'p' }, webhooks: [{ secret: 'w1' }, { secret: 'w2' }] };
    const sealed = await fields.sealObject(doc, paths, at);
    const resaved = await fields.sealObject(sealed, paths, at);
    expect(resaved).toEqual(sealed);
    expect(await fields.openObject(resaved, paths, at)).toEqual(doc);
    // A partially edited document: new plaintext is sealed, old ciphertexts are kept.
    const edited = { ...sealed, smtp: { host: 'h', password: 'new-p' } };
    expect(await fields.openObject(await fields.sealObject(edited, paths, at), paths, at)).toEqual({
      ...doc,
      smtp: { host: 'h', password: 'new-p' },
    });
    // A ciphertext copied in from another row is refused, not wrapped.
    const other = await fields.sealObject(doc, paths, { ...at, rowId: 'row-2' });
    const mixed = { ...sealed, smtp: (other as typeof sealed).smtp };
    expect(await codeOf(fields.sealObject(mixed, paths, at))).toBe('CRYPTO_ALREADY_SEALED');
  });
});

describe('openObject with a path inside another opened path', () => {
  it('opens a value revealed by opening its parent, under a key the first pass could not see', () =>
    runAsTenant({ tenantId: 'acme', actor: { id: 'u1' } }, async () => {
      const { fields } = makeFields();
      const at = { collection: 'settings', rowId: 'r1' };
      const inner = await fields.sealObject({ a: { b: 'secret', c: 1 } }, ['a.b'], at); // a.b: key 1
      await fields.keys.rotate();
      const outer = await fields.sealObject(inner, ['a'], at); // a: key 2
      expect(await fields.openObject(outer, ['a', 'a.b'], at)).toEqual({ a: { b: 'secret', c: 1 } });
    }));
});
