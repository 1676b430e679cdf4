import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { transformSync } from '@swc/core';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const pkgDir = fileURLToPath(new URL('..', import.meta.url));
// The test is about the built output, so it builds what is missing (as on a fresh clone where
// `npm test` runs before any `npm run build`) instead of skipping.
const DIST_PACKAGES = ['tenancy-core', 'http', 'adapters-nest'];
const repoDir = fileURLToPath(new URL('../../../', import.meta.url));
function buildMissingDist(): void {
  const missing = DIST_PACKAGES.filter((p) => !existsSync(`${repoDir}packages/${p}/dist/index.js`));
  if (missing.length === 0) return;
  execFileSync('npm', ['run', 'build', ...missing.flatMap((p) => ['--workspace', `packages/${p}`])], {
    cwd: repoDir,
    stdio: 'ignore',
  });
}
const secret = 'built-app-secret-of-at-least-32-bytes!';
const work = `${pkgDir}.built-app-${process.pid}/`;

function compile(format: 'es6' | 'commonjs'): string {
  const source = readFileSync(`${pkgDir}fixtures/built-app.ts`, 'utf8');
  const { code } = transformSync(source, {
    filename: 'built-app.ts',
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      target: 'es2022',
    },
    module: { type: format },
  });
  mkdirSync(work, { recursive: true });
  const file = `${work}app.${format === 'es6' ? 'mjs' : 'cjs'}`;
  writeFileSync(file, code);
  return file;
}

const children: ChildProcess[] = [];
function start(file: string): Promise<number> {
  return new Promise((resolve, reject) => {
    // Plain node, no @tenantry/source condition: every @tenantry package resolves to its dist.
    const child = spawn(process.execPath, [file, secret], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let out = '';
    let err = '';
    child.stderr?.on('data', (d) => {
      err += String(d);
    });
    child.stdout?.on('data', (d) => {
      out += String(d);
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line) resolve((JSON.parse(line) as { port: number }).port);
    });
    child.once('exit', (code) => reject(new Error(`app exited ${code}: ${err}`)));
  });
}

afterAll(() => {
  for (const c of children) c.kill('SIGTERM');
  rmSync(work, { recursive: true, force: true });
});

describe('built @tenantry/nest in a built Nest app', () => {
  beforeAll(buildMissingDist, 180_000);
  it.each(['es6', 'commonjs'] as const)(
    'constructor injection and the tenant context work from dist (%s)',
    async (format) => {
      const port = await start(compile(format));
      const token = await new SignJWT({ tenant_id: 'globex', roles: ['USER'] })
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject('u-1')
        .setIssuer('built-idp')
        .setAudience('built-api')
        .setExpirationTime('5m')
        .sign(new TextEncoder().encode(secret));
      const res = await fetch(`http://127.0.0.1:${port}/ops/hello`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(await res.json()).toEqual({ tenant: 'globex', injected: true, param: 'globex' });
      // TenancyThrottlerModule.forRootAsync (the @tenantry/nest/throttler subpath): its per-IP limit applies.
      expect(res.headers.get('x-ratelimit-limit-ip')).toBe('1000');
      const refused = await fetch(`http://127.0.0.1:${port}/ops/hello`);
      expect([refused.status, ((await refused.json()) as { code: string }).code]).toEqual([
        401,
        'HTTP_TOKEN_MISSING',
      ]);
      // TenancyHealthModule.forRootAsync: path beside the factory, checks from the injected config.
      const ready = await fetch(`http://127.0.0.1:${port}/probes/ready`);
      expect([ready.status, await ready.json()]).toEqual([
        200,
        { status: 'ready', checks: { config: 'up' } },
      ]);
      // TenancySignInLockoutModule.forRootAsync + @SignInLockout: locked after 2 failures (from the config).
      const signIn = async (password: string) => {
        const r = await fetch(`http://127.0.0.1:${port}/auth/sign-in`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ email: `ann-${format}@example.com`, password }),
        });
        return r.status === 423 ? ((await r.json()) as { code: string }).code : r.status;
      };
      expect([await signIn('wrong'), await signIn('wrong'), await signIn('right')]).toEqual([
        401,
        401,
        'HTTP_ACCOUNT_LOCKED',
      ]);
      // CORS from TenancyModule options; the body limit by default; a too-large body is a 413 problem.
      const pre = await fetch(`http://127.0.0.1:${port}/ops/hello`, {
        method: 'OPTIONS',
        headers: { origin: 'https://app.example.com', 'access-control-request-method': 'GET' },
      });
      expect(pre.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
      const big = await fetch(`http://127.0.0.1:${port}/auth/sign-in`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: 'x'.repeat(150_000) }),
      });
      expect([big.status, ((await big.json()) as { code: string }).code]).toEqual([
        413,
        'HTTP_PAYLOAD_TOO_LARGE',
      ]);
    },
    60_000,
  );
});
