import { GatekeeperError, TenantryError, parseInput } from '@tenantry/core';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { HttpTenancyError, PROBLEM_CONTENT_TYPE, toProblem } from '../src/index.js';

const leaks = (body: unknown): boolean =>
  /SELECT|password|at \S+:\d+|node_modules|stack/i.test(JSON.stringify(body));

describe('toProblem', () => {
  it('maps Tenantry codes to their status with an RFC 9457 body', () => {
    const p = toProblem(new TenantryError('TENANT_CONTEXT_CONFLICT', 'Another tenant was named'), {
      requestId: 'r-1',
    });
    expect(p.status).toBe(403);
    expect(p.headers['content-type']).toBe(PROBLEM_CONTENT_TYPE);
    expect(p.body).toEqual({
      type: 'about:blank',
      title: 'Forbidden',
      status: 403,
      code: 'TENANT_CONTEXT_CONFLICT',
      detail: 'Another tenant was named',
      instance: 'urn:request:r-1',
    });
    expect(toProblem(new HttpTenancyError('HTTP_TOKEN_EXPIRED', 'x')).status).toBe(401);
    expect(toProblem(new GatekeeperError('TENANT_SUSPENDED', 'The tenant is suspended')).body).toMatchObject({
      status: 403,
      code: 'TENANT_SUSPENDED',
    });
    // Core's table: SUBSCRIPTION_* is 402 Payment Required.
    expect(toProblem(new GatekeeperError('SUBSCRIPTION_PAST_DUE', 'x')).status).toBe(402);
    expect(
      toProblem(new TenantryError('X', 'y'), { typeBase: 'https://errors.example.com/' }).body.type,
    ).toBe('https://errors.example.com/X');
  });

  it('lists validation failures by field path, never values', () => {
    let err: unknown;
    try {
      parseInput(
        z.object({ email: z.email(), items: z.array(z.number()) }),
        { email: 'secret-value', items: ['x'] },
        'order',
      );
    } catch (e) {
      err = e;
    }
    const p = toProblem(err);
    expect(p.status).toBe(400);
    expect(p.body.code).toBe('VALIDATION_FAILED');
    expect(p.body.errors?.map((e) => e.path).sort()).toEqual(['email', 'items.0']);
    expect(JSON.stringify(p.body)).not.toContain('secret-value');
    const zod = z.object({ n: z.number() }).safeParse({ n: 'x' });
    expect(toProblem(zod.error).body).toMatchObject({
      status: 400,
      code: 'VALIDATION_FAILED',
      errors: [{ path: 'n' }],
    });
  });

  it('gives retryable codes a Retry-After header', () => {
    const p = toProblem(
      new HttpTenancyError('HTTP_RATE_LIMITED', 'slow down', { details: { retryAfterSec: 42 } }),
    );
    expect(p.status).toBe(429);
    expect(p.headers['retry-after']).toBe('42');
    expect(
      toProblem(new TenantryError('TENANT_CONTEXT_MISSING', 'x')).headers['retry-after'],
    ).toBeUndefined();
  });

  it('answers any other error with a bare 500: no message, stack or SQL', () => {
    const sql = new Error(
      'duplicate key value violates unique constraint; SELECT * FROM users WHERE password = $1',
    );
    const p = toProblem(sql, { requestId: 'r-2' });
    expect(p.status).toBe(500);
    expect(p.body).toEqual({
      type: 'about:blank',
      title: 'Internal Server Error',
      status: 500,
      code: 'INTERNAL',
      instance: 'urn:request:r-2',
    });
    expect(leaks(p.body)).toBe(false);
    expect(toProblem('a string').status).toBe(500);
    expect(toProblem(null).status).toBe(500);
    // A 5xx Tenantry error keeps its code but not its message (it may describe internals).
    const store = toProblem(new HttpTenancyError('HTTP_AUDIT_UNAVAILABLE', 'pg said: SELECT ...'));
    expect(store.body.detail).toBeUndefined();
    expect(leaks(store.body)).toBe(false);
  });

  it('maps a framework client error (body too large, bad JSON) without its message', () => {
    const big = Object.assign(new Error('request entity too large'), {
      status: 413,
      expose: true,
      type: 'entity.too.large',
    });
    expect(toProblem(big).body).toMatchObject({ status: 413, code: 'HTTP_PAYLOAD_TOO_LARGE' });
    const bad = Object.assign(new Error('Unexpected token } in JSON at position 7'), {
      status: 400,
      expose: true,
    });
    const p = toProblem(bad);
    expect(p.body).toMatchObject({ status: 400, code: 'HTTP_BAD_REQUEST' });
    expect(JSON.stringify(p.body)).not.toContain('Unexpected token');
    // Not exposed (a server-side error that happens to carry a status): still a bare 500.
    expect(toProblem(Object.assign(new Error('x'), { status: 400 })).status).toBe(500);
    // The Express router's malformed %-escape in a route parameter: a client error.
    const uri = Object.assign(new URIError("Failed to decode param '%E0%A4%A'"), { status: 400 });
    expect(toProblem(uri).body).toMatchObject({ status: 400, code: 'HTTP_BAD_REQUEST' });
    expect(JSON.stringify(toProblem(uri).body)).not.toContain('decode');
    expect(toProblem(Object.assign(new URIError('x'), { status: 500 })).status).toBe(500);
  });
});
