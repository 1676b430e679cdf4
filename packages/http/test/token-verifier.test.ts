import { generateKeyPairSync } from 'node:crypto';
import { ManualClock, isTenantryError } from '@tenantry/core';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTokenVerifier } from '../src/index.js';
import {
  AUDIENCE,
  ISSUER,
  SECRET,
  type KeyPair,
  jwksServer,
  keyPair,
  mint,
  unsignedToken,
} from './helpers.js';

const hs = () => createTokenVerifier({ key: { secret: SECRET }, issuer: ISSUER, audience: AUDIENCE });

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'OK';
  } catch (e) {
    return isTenantryError(e) ? e.code : `RAW:${(e as Error).message}`;
  }
}

describe('token verifier (shared secret)', () => {
  it('maps claims to tenant, actor, roles, kind and the RFC 8693 impersonator', async () => {
    const token = await mint({
      tenantId: 'acme',
      sub: 'u-7',
      roles: ['MANAGER'],
      act: { sub: 'support-1', roles: ['SUPER_ADMIN'] },
    });
    const id = await hs().verify(token);
    expect(id.tenantId).toBe('acme');
    expect(id.actor).toMatchObject({ id: 'u-7', roles: ['MANAGER'], kind: 'user' });
    expect(id.impersonator).toMatchObject({ id: 'support-1', roles: ['SUPER_ADMIN'] });
  });

  it('refuses forged, expired, wrong-issuer, wrong-audience, unsigned and malformed tokens', async () => {
    const v = hs();
    const forged = await mint({}, new TextEncoder().encode('another-secret-of-at-least-32-bytes!!'));
    expect(await codeOf(v.verify(forged))).toBe('HTTP_TOKEN_INVALID');
    expect(await codeOf(v.verify(await mint({ expiresIn: '-2m' })))).toBe('HTTP_TOKEN_EXPIRED');
    expect(await codeOf(v.verify(await mint({ iss: 'https://evil.test/' })))).toBe('HTTP_TOKEN_INVALID');
    expect(await codeOf(v.verify(await mint({ aud: 'other-api' })))).toBe('HTTP_TOKEN_INVALID');
    const none = unsignedToken({
      sub: 'u',
      tenant_id: 'acme',
      iss: ISSUER,
      aud: AUDIENCE,
      exp: Math.floor(Date.now() / 1000) + 60,
    });
    expect(await codeOf(v.verify(none))).toBe('HTTP_TOKEN_INVALID');
    expect(await codeOf(v.verify('not.a.jwt'))).toBe('HTTP_TOKEN_INVALID');
    expect(await codeOf(v.verify(''))).toBe('HTTP_TOKEN_INVALID');
    // A token with a payload that differs from what was signed.
    const good = await mint({ tenantId: 'acme' });
    const [h, , s] = good.split('.');
    const swapped = Buffer.from(
      JSON.stringify({
        ...JSON.parse(Buffer.from(good.split('.')[1] ?? '', 'base64url').toString()),
        tenant_id: 'globex',
      }),
    ).toString('base64url');
    expect(await codeOf(v.verify(`${h}.${swapped}.${s}`))).toBe('HTTP_TOKEN_INVALID');
  });

  it('requires exp and sub, and a well-formed tenant claim', async () => {
    const v = hs();
    expect(await codeOf(v.verify(await mint({ omitExp: true })))).toBe('HTTP_TOKEN_INVALID');
    expect(await codeOf(v.verify(await mint({ tenantId: 'bad tenant/../x' })))).toBe('HTTP_TOKEN_INVALID');
    expect(await codeOf(v.verify(await mint({ roles: ['not-a-role'] })))).toBe('HTTP_TOKEN_INVALID');
  });

  it('tolerates the configured clock skew and no more', async () => {
    const clock = new ManualClock(new Date());
    const v = createTokenVerifier(
      { key: { secret: SECRET }, issuer: ISSUER, audience: AUDIENCE, clockToleranceSec: 30, cacheSize: 0 },
      clock,
    );
    const token = await mint({ expiresIn: '10s' });
    clock.advance(25_000);
    expect(await codeOf(v.verify(token))).toBe('OK');
    clock.advance(30_000);
    expect(await codeOf(v.verify(token))).toBe('HTTP_TOKEN_EXPIRED');
  });

  it('caches verified tokens only for their lifetime, within a bounded size', async () => {
    const clock = new ManualClock(new Date());
    const v = createTokenVerifier(
      { key: { secret: SECRET }, issuer: ISSUER, audience: AUDIENCE, clockToleranceSec: 0, cacheSize: 2 },
      clock,
    );
    const t1 = await mint({ sub: 'a', expiresIn: '60s' });
    await v.verify(t1);
    await v.verify(await mint({ sub: 'b' }));
    await v.verify(await mint({ sub: 'c' }));
    expect(v.cached).toBe(2);
    const t2 = await mint({ sub: 'd', expiresIn: '60s' });
    await v.verify(t2);
    clock.advance(61_000);
    // A cached token is not served past its exp.
    expect(await codeOf(v.verify(t2))).toBe('HTTP_TOKEN_EXPIRED');
  });

  it('holds at most cacheSize tokens however many are verified, and sweeps expired ones without reading them', async () => {
    const clock = new ManualClock(new Date());
    const v = createTokenVerifier(
      { key: { secret: SECRET }, issuer: ISSUER, audience: AUDIENCE, clockToleranceSec: 0, cacheSize: 10 },
      clock,
    );
    let peak = 0;
    // The tokens' exp comes from the real clock: on a loaded machine minting sixty of them takes
    // seconds, so the manual clock moves past the last exp, not only the first.
    const started = Date.now();
    for (let i = 0; i < 60; i++) {
      await v.verify(await mint({ sub: `short-${i}`, expiresIn: '60s' }));
      peak = Math.max(peak, v.cached);
    }
    expect(peak).toBe(10);
    clock.advance(61_000 + (Date.now() - started));
    // Five new tokens (cacheSize / 2 insertions) later, the ten expired ones are gone, though none of
    // them was presented again and the cache was not full.
    for (let i = 0; i < 4; i++) await v.verify(await mint({ sub: `long-${i}`, expiresIn: '1h' }));
    expect(v.cached).toBe(10);
    await v.verify(await mint({ sub: 'long-4', expiresIn: '1h' }));
    expect(v.cached).toBe(5);
  });

  it('peek answers only the exact token verify verified, and never verifies by itself', async () => {
    const v = hs();
    const token = await mint({ tenantId: 'acme', sub: 'u-1' });
    // A valid token that was never verified is not answered: peek does no crypto.
    expect(v.peek?.(token)).toBeUndefined();
    const verified = await v.verify(token);
    expect(v.peek?.(token)).toBe(verified);
    const [h, p, sig = ''] = token.split('.');
    const otherSig = `${sig.slice(0, -2)}${sig.endsWith('AA') ? 'BB' : 'AA'}`;
    const swapped = Buffer.from(
      JSON.stringify({ ...JSON.parse(Buffer.from(p ?? '', 'base64url').toString()), tenant_id: 'globex' }),
    ).toString('base64url');
    // Nothing but the same string hits: not another signature, another payload under the same
    // signature, a prefix or a padded copy.
    for (const other of [
      `${h}.${p}.${otherSig}`,
      `${h}.${swapped}.${sig}`,
      token.slice(0, -1),
      `${token} `,
    ]) {
      expect(v.peek?.(other)).toBeUndefined();
    }
    for (const junk of ['', 'x'.repeat(20_000), undefined, 42] as unknown[]) {
      expect(v.peek?.(junk as string)).toBeUndefined();
    }
  });

  it('peek honours expiry (exp and maxTokenAgeSec, with the clock tolerance) and drops expired entries', async () => {
    const short = await mint({ sub: 'short', expiresIn: '60s' });
    const long = await mint({ sub: 'long', expiresIn: '1h' });
    // The clock follows the tokens' own iat/exp (minted on the real clock), whatever minting took.
    const claims = (t: string) => decodeJwt(t) as { iat: number; exp: number };
    const clock = new ManualClock(Math.max(claims(short).iat, claims(long).iat) * 1000);
    const v = createTokenVerifier(
      {
        key: { secret: SECRET },
        issuer: ISSUER,
        audience: AUDIENCE,
        clockToleranceSec: 5,
        maxTokenAgeSec: 120,
      },
      clock,
    );
    await v.verify(short);
    await v.verify(long);
    // Valid until exp + 5 s of tolerance, not at that instant.
    clock.set((claims(short).exp + 5) * 1000 - 1);
    expect(v.peek?.(short)?.actor.id).toBe('short');
    clock.set((claims(short).exp + 5) * 1000);
    expect(v.peek?.(short)).toBeUndefined();
    expect(v.cached).toBe(1);
    expect(v.peek?.(long)?.actor.id).toBe('long');
    // Past iat + maxTokenAgeSec + tolerance, although exp is an hour away.
    clock.set((claims(long).iat + 126) * 1000);
    expect(v.peek?.(long)).toBeUndefined();
    expect(await codeOf(v.verify(long))).toBe('HTTP_TOKEN_EXPIRED');
  });

  it('peek finds nothing when the cache is off', async () => {
    const v = createTokenVerifier({
      key: { secret: SECRET },
      issuer: ISSUER,
      audience: AUDIENCE,
      cacheSize: 0,
    });
    const token = await mint();
    await v.verify(token);
    expect(v.peek?.(token)).toBeUndefined();
  });

  it('refuses a plain-http JWKS URL off loopback', () => {
    expect(() =>
      createTokenVerifier({
        key: { jwksUrl: 'http://idp.example.com/jwks.json' },
        issuer: ISSUER,
        audience: AUDIENCE,
      }),
    ).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
    expect(() =>
      createTokenVerifier({
        key: { jwksUrl: 'https://idp.example.com/jwks.json' },
        issuer: ISSUER,
        audience: AUDIENCE,
      }),
    ).not.toThrow();
  });

  it('refuses short secrets and HS algorithms with a public key (key confusion)', () => {
    expect(() =>
      createTokenVerifier({ key: { secret: 'short' }, issuer: ISSUER, audience: AUDIENCE }),
    ).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
    const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    expect(() =>
      createTokenVerifier({
        key: { publicKey: pem },
        issuer: ISSUER,
        audience: AUDIENCE,
        algorithms: ['HS256'],
      }),
    ).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
    expect(() =>
      createTokenVerifier({
        key: { secret: SECRET },
        issuer: ISSUER,
        audience: AUDIENCE,
        algorithms: ['RS256'],
      }),
    ).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
  });
});

describe('token verifier (public keys and JWKS)', () => {
  let rsa: KeyPair;
  let ec: KeyPair;
  let ed: KeyPair;
  let jwks: Awaited<ReturnType<typeof jwksServer>>;
  beforeAll(async () => {
    [rsa, ec, ed] = await Promise.all([
      keyPair('RS256', 'r1'),
      keyPair('ES256', 'e1'),
      keyPair('EdDSA', 'd1'),
    ]);
    jwks = await jwksServer([rsa.publicJwk, ec.publicJwk, ed.publicJwk]);
  });
  afterAll(() => jwks.close());

  it('verifies RS256, ES256 and EdDSA tokens from a JWKS URL, fetching the key set once', async () => {
    const v = createTokenVerifier({
      key: { jwksUrl: jwks.url },
      issuer: ISSUER,
      audience: AUDIENCE,
      cacheSize: 0,
    });
    for (const k of [rsa, ec, ed]) {
      const token = await mint({ alg: k.alg, kid: k.kid, tenantId: `t-${k.kid}` }, k.privateKey);
      expect((await v.verify(token)).tenantId).toBe(`t-${k.kid}`);
    }
    for (let i = 0; i < 20; i++)
      await v.verify(await mint({ alg: 'ES256', kid: 'e1', sub: `u${i}` }, ec.privateKey));
    expect(jwks.fetches()).toBe(1);
  });

  it('refuses a token signed by a key not in the set, and an HS256 token signed with the public key', async () => {
    const v = createTokenVerifier({ key: { jwksUrl: jwks.url }, issuer: ISSUER, audience: AUDIENCE });
    const stranger = await keyPair('ES256', 'e1');
    expect(await codeOf(v.verify(await mint({ alg: 'ES256', kid: 'e1' }, stranger.privateKey)))).toBe(
      'HTTP_TOKEN_INVALID',
    );
    const confused = await mint(
      { alg: 'HS256', kid: 'r1' },
      new TextEncoder().encode(JSON.stringify(rsa.publicJwk)),
    );
    expect(await codeOf(v.verify(confused))).toBe('HTTP_TOKEN_INVALID');
  });

  it('verifies with a public key given as a JWK, and refuses algorithms outside the allow-list', async () => {
    const v = createTokenVerifier({
      key: { publicKey: ec.publicJwk as Record<string, unknown> },
      issuer: ISSUER,
      audience: AUDIENCE,
      algorithms: ['ES256'],
    });
    expect((await v.verify(await mint({ alg: 'ES256' }, ec.privateKey))).actor.id).toBe('user-1');
    const rsOnly = createTokenVerifier({
      key: { publicKey: ec.publicJwk as Record<string, unknown> },
      issuer: ISSUER,
      audience: AUDIENCE,
      algorithms: ['RS256'],
    });
    expect(await codeOf(rsOnly.verify(await mint({ alg: 'ES256' }, ec.privateKey)))).toBe(
      'HTTP_TOKEN_INVALID',
    );
  });

  it('answers HTTP_JWKS_UNAVAILABLE (retryable) when the key set cannot be fetched', async () => {
    const down = await jwksServer([]);
    const url = down.url;
    await down.close();
    const v = createTokenVerifier({
      key: { jwksUrl: url, jwksTimeoutMs: 500 },
      issuer: ISSUER,
      audience: AUDIENCE,
    });
    const err = await v
      .verify(await mint({ alg: 'ES256', kid: 'e1' }, ec.privateKey))
      .catch((e: unknown) => e);
    expect(isTenantryError(err, 'HTTP_JWKS_UNAVAILABLE')).toBe(true);
    expect((err as { retryable: boolean }).retryable).toBe(true);
  });
});
