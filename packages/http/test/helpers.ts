import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type CryptoKey, type JWK, type JWTPayload, SignJWT, exportJWK, generateKeyPair } from 'jose';

export const SECRET = 'a-shared-secret-of-at-least-32-bytes!';
export const ISSUER = 'https://idp.test/';
export const AUDIENCE = 'tenantry-api';

export interface MintOptions {
  tenantId?: string | null;
  sub?: string;
  roles?: string[];
  kind?: string;
  act?: Record<string, unknown>;
  iss?: string;
  aud?: string;
  expiresIn?: string | number;
  alg?: string;
  kid?: string;
  extra?: JWTPayload;
  omitExp?: boolean;
}

/** A signed test token (HS256 with {@link SECRET} unless another key and alg are given). */
export async function mint(
  options: MintOptions = {},
  key: Uint8Array | CryptoKey = new TextEncoder().encode(SECRET),
): Promise<string> {
  const claims: JWTPayload = { ...(options.extra ?? {}) };
  if (options.tenantId !== null) claims.tenant_id = options.tenantId ?? 'acme';
  claims.roles = options.roles ?? ['USER'];
  if (options.kind) claims.actor_kind = options.kind;
  if (options.act) claims.act = options.act;
  let jwt = new SignJWT(claims)
    .setProtectedHeader({ alg: options.alg ?? 'HS256', ...(options.kid ? { kid: options.kid } : {}) })
    .setSubject(options.sub ?? 'user-1')
    .setIssuer(options.iss ?? ISSUER)
    .setAudience(options.aud ?? AUDIENCE)
    .setIssuedAt();
  if (!options.omitExp) jwt = jwt.setExpirationTime(options.expiresIn ?? '5m');
  return jwt.sign(key);
}

/** `alg: none` token with the right claims. */
export function unsignedToken(claims: JWTPayload): string {
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  return `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.`;
}

export interface KeyPair {
  alg: string;
  kid: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

export async function keyPair(alg: 'RS256' | 'ES256' | 'EdDSA', kid: string): Promise<KeyPair> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg };
  return { alg, kid, privateKey, publicJwk };
}

/** A JWKS endpoint on loopback that counts its fetches. */
export async function jwksServer(
  keys: JWK[],
): Promise<{ url: string; fetches: () => number; close: () => Promise<void> }> {
  let fetches = 0;
  const server: Server = createServer((_req, res) => {
    fetches++;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ keys }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/jwks.json`,
    fetches: () => fetches,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
