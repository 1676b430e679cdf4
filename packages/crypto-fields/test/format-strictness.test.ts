import { randomBytes } from 'node:crypto';
import { describeValue, hasNativeAesGcm, localKeyProvider } from '@tenantry/crypto-fields';
import { afterEach, describe, expect, it as plainIt, vi } from 'vitest';
import { _aesGcmImplementations, aeadFor } from '../src/aead.js';
import { decodeBase64UrlStrict, encodeParts } from '../src/format.js';
import { KEK1, ctx, itAsSystem as it, makeFields } from './helpers.js';

// Issue 12: tests that would notice (mutation-testing findings) and the strict base64url decoder that
// no longer re-encodes the whole value (its exhaustive check against the reference definition is in
// format-strictness.exhaustive.test.ts, kept apart because it is slow under mutation testing).

describe('strict base64url without re-encoding', () => {
  plainIt('refuses the aliases and look-alikes a lenient decoder accepts', () => {
    const good = Buffer.from('tenantry!').toString('base64url'); // 12 chars
    expect(decodeBase64UrlStrict(good)).toEqual(new Uint8Array(Buffer.from('tenantry!')));
    for (const bad of [
      `${good.slice(0, 4)}+${good.slice(5)}`, // standard alphabet alias
      `${good.slice(0, 4)}/${good.slice(5)}`,
      `${good} `,
      `${good}==`,
      `${good.slice(0, 4)}\u0141${good.slice(5)}`, // low byte 0x41 = 'A'
      `${good.slice(0, 4)}\u0100${good.slice(5)}`,
      'QR', // non-canonical trailing bits (canonical is QQ)
      'QUF', // one char too many for its bits? canonical QUE
      'Q',
    ]) {
      expect(decodeBase64UrlStrict(bad), JSON.stringify(bad)).toBeUndefined();
    }
  });
});

describe('length prefixes of encodeParts (key-wrap associated data, blind-index key derivation)', () => {
  plainIt('encodes each part as u32be(byte length) ‖ UTF-8, so splitting differently never collides', () => {
    expect(Buffer.from(encodeParts('ab', 'c')).toString('hex')).toBe('00000002616200000001' + '63');
    expect(Buffer.from(encodeParts('é')).toString('hex')).toBe('00000002c3a9');
    expect(encodeParts('ab', 'c')).not.toEqual(encodeParts('a', 'bc'));
    expect(encodeParts('', 'x')).not.toEqual(encodeParts('x', ''));
  });

  plainIt(
    'a data key wrapped for (tenant "acme1", key "dk") does not unwrap as (tenant "acme", key "1dk")',
    async () => {
      const provider = localKeyProvider({ keys: { kek1: KEK1 }, primary: 'kek1' });
      const dataKey = randomBytes(32);
      const wrapped = await provider.wrap(dataKey, { tenantId: 'acme1', keyId: 'dk', purpose: 'encrypt' });
      expect(
        Buffer.from(await provider.unwrap(wrapped, { tenantId: 'acme1', keyId: 'dk', purpose: 'encrypt' })),
      ).toEqual(dataKey);
      await expect(
        provider.unwrap(wrapped, { tenantId: 'acme', keyId: '1dk', purpose: 'encrypt' }),
      ).rejects.toMatchObject({ code: 'CRYPTO_KEY_PROVIDER_FAILED' });
    },
  );

  it('blind indexes of (collection "users", field "email") and ("user", "semail") differ', async () => {
    const { fields } = makeFields();
    const a = await fields.blindIndex('ann@example.com', {
      tenantId: 'acme',
      collection: 'users',
      field: 'email',
    });
    const b = await fields.blindIndex('ann@example.com', {
      tenantId: 'acme',
      collection: 'user',
      field: 'semail',
    });
    expect(a).not.toBe(b);
  });
});

describe('AES-256-GCM runs on the native implementation', () => {
  afterEach(() => vi.restoreAllMocks());

  it("seal and open with 'aes-256-gcm' go through node:crypto, never the table-based fallback", async () => {
    expect(hasNativeAesGcm()).toBe(true);
    expect(aeadFor('g')).toBe(_aesGcmImplementations.node);
    const nodeSeal = vi.spyOn(_aesGcmImplementations.node, 'sealInto');
    const nodeOpen = vi.spyOn(_aesGcmImplementations.node, 'open');
    const nobleSeal = vi.spyOn(_aesGcmImplementations.noble, 'sealInto');
    const nobleOpen = vi.spyOn(_aesGcmImplementations.noble, 'open');
    const { fields } = makeFields({ algorithm: 'aes-256-gcm' });
    const c = await fields.seal('secret', ctx);
    expect(describeValue(c)).toMatchObject({ algorithm: 'aes-256-gcm' });
    expect(await fields.open(c, ctx)).toBe('secret');
    // A default (XChaCha) instance opening a GCM value uses the native one too.
    expect(await makeFields({ store: fields.keys.store }).fields.open(c, ctx)).toBe('secret');
    expect(nodeSeal).toHaveBeenCalledTimes(1);
    expect(nodeOpen).toHaveBeenCalledTimes(2);
    expect(nobleSeal).not.toHaveBeenCalled();
    expect(nobleOpen).not.toHaveBeenCalled();
  });
});

describe('describe() reads only well-formed headers', () => {
  it('a malformed key id or algorithm letter is "malformed", not a ciphertext', async () => {
    const { fields } = makeFields();
    const c = await fields.seal('v', ctx);
    const [, alg, kid, body] = c.split(':') as [string, string, string, string];
    expect(fields.describe(c)).toMatchObject({
      kind: 'ciphertext',
      algorithm: 'xchacha20-poly1305',
      keyId: kid,
    });
    expect(fields.describe(`tcf1:g:${kid}:${body}`)).toMatchObject({
      kind: 'ciphertext',
      algorithm: 'aes-256-gcm',
    });
    for (const bad of [
      `tcf1:z:${kid}:${body}`, // unknown algorithm letter
      `tcf1:X:${kid}:${body}`,
      `tcf1::${kid}:${body}`,
      `tcf1:xx:${kid}:${body}`,
      `tcf1:${alg}::${body}`, // empty key id
      `tcf1:${alg}:dk!1:${body}`, // character outside [A-Za-z0-9_-]
      `tcf1:${alg}:dk 1:${body}`,
      `tcf1:${alg}:${'k'.repeat(65)}:${body}`, // 65 characters
      `tcf1:${alg}:dk\u0131:${body}`,
      `tcf1:${alg}:${kid}`, // no body separator
      `tcf1:${alg}:${kid}:${body}+`,
    ]) {
      expect(fields.describe(bad), bad.slice(0, 90)).toEqual({ kind: 'malformed' });
    }
    expect(fields.describe(`tcf1:${alg}:${'k'.repeat(64)}:${body}`)).toMatchObject({ kind: 'ciphertext' });
  });
});

describe('open() on the hot path (scratch AAD, views on the decoded body, in-place commitment)', () => {
  for (const algorithm of ['xchacha20-poly1305', 'aes-256-gcm'] as const) {
    it(`${algorithm}: a genuine value opens; every non-canonical spelling of its body is CRYPTO_DECRYPT_FAILED`, async () => {
      const { fields } = makeFields({ algorithm });
      // A body whose length is 2 mod 4 (so its last character has 4 unused bits).
      let c = '';
      for (let n = 1; n < 8 && (c === '' || (c.length - c.lastIndexOf(':') - 1) % 4 !== 2); n++) {
        c = await fields.seal('s'.repeat(n), ctx);
      }
      const at = c.lastIndexOf(':') + 1;
      const head = c.slice(0, at);
      const body = c.slice(at);
      expect(body.length % 4).toBe(2);
      expect(await fields.open(c, ctx)).toMatch(/^s+$/);
      const last = body.at(-1)!;
      const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
      const lastValue = alphabet.indexOf(last);
      const spellings = [
        `${body.slice(0, -1)}${alphabet[lastValue ^ 1]}`, // same bytes by Node's decoder, unused bits set
        `${body}==`, // padding
        `${body.slice(0, 8)} ${body.slice(8)}`, // whitespace
        `${body.slice(0, 8)}=${body.slice(9)}`,
        body.replace(/-|_/, (ch) => (ch === '-' ? '+' : '/')) === body
          ? `${body.slice(0, 5)}+${body.slice(6)}`
          : body.replace(/-|_/, (ch) => (ch === '-' ? '+' : '/')), // standard-alphabet alias
        `${body.slice(0, 8)}\u0141${body.slice(9)}`, // a wide code unit whose low byte is a letter
      ];
      for (const s of spellings) {
        expect(s).not.toBe(body);
        await expect(fields.open(head + s, ctx), JSON.stringify(s)).rejects.toMatchObject({
          code: 'CRYPTO_DECRYPT_FAILED',
        });
      }
      // The context stays bound (the AAD is rebuilt per call, not reused from the previous one).
      await expect(fields.open(c, { ...ctx, field: `${ctx.field}x` })).rejects.toMatchObject({
        code: 'CRYPTO_DECRYPT_FAILED',
      });
      await expect(fields.open(c, { ...ctx, rowId: 'other-row' })).rejects.toMatchObject({
        code: 'CRYPTO_DECRYPT_FAILED',
      });
      expect(await fields.open(c, ctx)).toMatch(/^s+$/);
    });
  }
});
