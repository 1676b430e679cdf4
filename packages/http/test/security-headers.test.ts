// recordStaticHeaders: a header-only middleware's headers are recorded once and replayed exactly,
// and anything that could vary per request is refused (the caller then runs the middleware itself).
// Also the request ids that replaced per-request UUIDv7s: unique, and accepted back as incoming ids.
import { noopAuditPort } from '@tenantry/core';
import { describe, expect, it } from 'vitest';
import { type HeaderMiddleware, createHttpTenancy, recordStaticHeaders } from '../src/index.js';
import { AUDIENCE, ISSUER, SECRET } from './helpers.js';

type Res = { setHeader(n: string, v: string): void; removeHeader(n: string): void; locals?: object };
const mw = (f: (req: Record<string, unknown>, res: Res, next: (e?: unknown) => void) => void) =>
  f as unknown as HeaderMiddleware;

/** A response that keeps its headers like Node's (case-insensitive). */
function response() {
  const headers = new Map<string, string>([['x-powered-by', 'Express']]);
  return {
    headers,
    setHeader: (n: string, v: string) => void headers.set(n.toLowerCase(), v),
    removeHeader: (n: string) => void headers.delete(n.toLowerCase()),
  };
}

describe('recordStaticHeaders', () => {
  it('replays exactly what a static middleware does, in order', () => {
    const staticOne = mw((_req, res, next) => {
      res.setHeader('Content-Security-Policy', "default-src 'self'");
      res.setHeader('X-Temp', '1');
      res.removeHeader('X-Temp'); // set then removed: stays removed on replay
      res.removeHeader('X-Powered-By');
      res.setHeader('X-Content-Type-Options', 'nosniff');
      next();
    });
    const direct = response();
    (staticOne as unknown as (a: unknown, b: unknown, c: () => void) => void)({}, direct, () => {});
    const recorded = recordStaticHeaders(staticOne, { contentSecurityPolicy: { directives: {} } });
    expect(recorded).toBeDefined();
    const replayed = response();
    recorded?.apply(replayed);
    expect([...replayed.headers]).toEqual([...direct.headers]);
    expect(replayed.headers.get('x-powered-by')).toBeUndefined();
    expect(recorded?.remove).toEqual(['X-Temp', 'X-Powered-By']);
  });

  it('refuses anything that may vary per request', () => {
    const ok = mw((_req, res, next) => {
      res.setHeader('A', 'b');
      next();
    });
    // A function in the options (helmet's CSP nonce), at any depth.
    expect(
      recordStaticHeaders(ok, { contentSecurityPolicy: { directives: { scriptSrc: [() => 'n'] } } }),
    ).toBeUndefined();
    const cases: Array<[string, HeaderMiddleware]> = [
      [
        'reads the request',
        mw((req, res, next) => {
          res.setHeader('A', String(req.url));
          next();
        }),
      ],
      ['asks the request', mw((req, _res, next) => ('secure' in req ? next() : next()))],
      [
        'touches res.locals',
        mw((_req, res, next) => {
          res.setHeader('A', String(res.locals));
          next();
        }),
      ],
      ['passes an error', mw((_req, _res, next) => next(new Error('no')))],
      ['never calls next', mw(() => {})],
      ['calls next later', mw((_req, _res, next) => void setTimeout(next, 1))],
      [
        'throws',
        mw(() => {
          throw new Error('boom');
        }),
      ],
      [
        'sets a non-string value',
        mw((_req, res, next) => {
          res.setHeader('A', 1 as never);
          next();
        }),
      ],
    ];
    for (const [why, m] of cases) expect(recordStaticHeaders(m, {}), why).toBeUndefined();
    expect(recordStaticHeaders(ok, {})).toBeDefined();
  });
});

describe('request ids', () => {
  const http = createHttpTenancy({
    auth: { key: { secret: SECRET }, issuer: ISSUER, audience: AUDIENCE },
    audit: noopAuditPort,
  });
  it('fresh ids are unique, short and plain, so a client may send them back', () => {
    const ids = Array.from({ length: 50_000 }, () => http.requestId(undefined));
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids.slice(0, 100)) {
      expect(id).toMatch(/^[A-Za-z0-9_-]{16}-[0-9a-z]+$/);
      expect(http.requestId(id)).toBe(id);
    }
    // Another instance in the same process continues the same sequence: still no repeat.
    const other = createHttpTenancy({
      auth: { key: { secret: SECRET }, issuer: ISSUER, audience: AUDIENCE },
      audit: noopAuditPort,
    });
    expect(ids).not.toContain(other.requestId(undefined));
  });
  it('keeps a plain client id and replaces an odd one', () => {
    expect(http.requestId('client-42')).toBe('client-42');
    for (const odd of ['', 'a b', 'x'.repeat(129), 'id\n']) expect(http.requestId(odd)).not.toBe(odd);
  });
});
