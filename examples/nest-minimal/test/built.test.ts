import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The example's BUILT output (swc, with decorator metadata) runs as a plain `node` process against the
// packages' BUILT `dist/` (no `@tenantry/source` condition), as a user's app would: a package whose
// build lost what Nest needs (decorator metadata, injection tokens, a missing export) fails here.
const dir = fileURLToPath(new URL('..', import.meta.url));
const root = fileURLToPath(new URL('../../..', import.meta.url));
/** The workspace packages the example loads, in build order (dependencies first). */
const PACKAGES = [
  'tenancy-core',
  'http',
  'audit',
  'sequencer',
  'approvals',
  'crypto-fields',
  'adapters-nest',
];
/** The child's environment without the test runner's Node options (they may carry the source condition). */
const plainEnv = (): NodeJS.ProcessEnv => {
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  return env;
};
const newest = (path: string): number =>
  statSync(path).isDirectory()
    ? Math.max(0, ...readdirSync(path).map((f) => newest(join(path, f))))
    : statSync(path).mtimeMs;
/** Build the packages whose dist is missing or older than their sources, so the test never runs a stale build. */
function buildStalePackages(): string[] {
  const built: string[] = [];
  for (const p of PACKAGES) {
    const pkg = join(root, 'packages', p);
    const out = join(pkg, 'dist', 'index.js');
    if (existsSync(out) && statSync(out).mtimeMs >= newest(join(pkg, 'src'))) continue;
    execFileSync('npm', ['run', 'build', '--workspace', `packages/${p}`], { cwd: root, stdio: 'ignore' });
    built.push(p);
  }
  return built;
}
const secret = 'nest-minimal-secret-of-at-least-32-bytes';
let child: ChildProcess | undefined;
let base = '';

const token = (sub: string, tenant: string, roles: string[]) =>
  new SignJWT({ tenant_id: tenant, roles })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(sub)
    .setIssuer('nest-minimal')
    .setAudience('nest-minimal')
    .setExpirationTime('5m')
    .sign(new TextEncoder().encode(secret));

async function call(t: string | undefined, method: string, path: string, body?: unknown) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: {
      ...(t ? { authorization: `Bearer ${t}` } : {}),
      ...(body ? { 'content-type': 'application/json' } : {}),
    },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return {
    status: res.status,
    body: (await res.json()) as Record<string, unknown> & Array<Record<string, unknown>>,
  };
}

describe("examples/nest-minimal, built with swc, on the packages' built dist", () => {
  beforeAll(async () => {
    buildStalePackages();
    execFileSync(process.execPath, ['build.mjs'], { cwd: dir });
    child = spawn(process.execPath, ['dist/main.mjs'], {
      cwd: dir,
      env: { ...plainEnv(), JWT_SECRET: secret, PORT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const port = await new Promise<number>((resolve, reject) => {
      let out = '';
      let err = '';
      child!.stderr?.on('data', (d) => {
        err += String(d);
      });
      child!.stdout?.on('data', (d) => {
        out += String(d);
        const line = out.split('\n').find((l) => l.startsWith('{'));
        if (line) resolve((JSON.parse(line) as { port: number }).port);
      });
      child!.once('exit', (code) => reject(new Error(`exited ${code}: ${err}`)));
    });
    base = `http://127.0.0.1:${port}`;
  }, 600_000);
  afterAll(() => {
    child?.kill('SIGTERM');
  });

  it('loads the @tenantry packages from their built dist, not their sources', () => {
    // What the app process resolves, asked of a process started exactly like it.
    const resolved = execFileSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `for (const p of ['core', 'http', 'nest', 'sequencer', 'approvals', 'audit', 'crypto-fields']) console.log(import.meta.resolve('@tenantry/' + p))`,
      ],
      { cwd: dir, env: plainEnv(), encoding: 'utf8' },
    )
      .trim()
      .split('\n');
    expect(resolved).toHaveLength(7);
    for (const url of resolved) expect(url).toMatch(/\/packages\/[a-z-]+\/dist\/index\.js$/);
    // …and the app process was started exactly like it: no source condition in its arguments or options.
    const cmdline = `/proc/${child?.pid}/cmdline`;
    if (existsSync(cmdline)) {
      expect(readFileSync(cmdline, 'utf8').split('\0')).toEqual([process.execPath, 'dist/main.mjs', '']);
      expect(readFileSync(`/proc/${child?.pid}/environ`, 'utf8')).not.toContain('NODE_OPTIONS=');
    }
  });

  it('is under 150 lines and keeps decorator metadata in its build', () => {
    expect(readFileSync(`${dir}app/main.ts`, 'utf8').split('\n').length).toBeLessThan(150);
    expect(readFileSync(`${dir}dist/main.mjs`, 'utf8')).toContain('design:paramtypes');
  });

  it('numbers per tenant, voids with a second person, seals secrets, and verifies its audit trail', async () => {
    expect((await call(undefined, 'GET', '/ops/invoices')).status).toBe(401);
    const clerk = await token('clerk', 'acme', ['OPERATOR']);
    const manager = await token('manager', 'acme', ['MANAGER']);
    const admin = await token('admin', 'acme', ['TENANT_ADMIN']);
    const other = await token('bob', 'globex', ['OPERATOR']);
    const a1 = await call(clerk, 'POST', '/ops/invoices', { customer: 'Wayne', issueDate: '2026-03-01' });
    const a2 = await call(clerk, 'POST', '/ops/invoices', { customer: 'Stark', issueDate: '2026-03-02' });
    const g1 = await call(other, 'POST', '/ops/invoices', { customer: 'Tyrell', issueDate: '2026-03-02' });
    expect([a1.body.code, a2.body.code, g1.body.code]).toEqual([
      'INV-2026-00001',
      'INV-2026-00002',
      'INV-2026-00001',
    ]);
    expect((await call(other, 'GET', '/ops/invoices')).body.map((i) => i.code)).toEqual(['INV-2026-00001']);

    const policies = [{ action: 'invoice.void', approvalsRequired: 1, approverRoles: ['MANAGER'] }];
    expect((await call(clerk, 'PUT', '/back-office/approval-policies', { policies })).status).toBe(403);
    expect((await call(admin, 'PUT', '/back-office/approval-policies', { policies })).status).toBe(200);
    const asked = await call(clerk, 'POST', '/ops/invoices/INV-2026-00001/void', { justification: 'typo' });
    expect([asked.status, asked.body.status]).toEqual([202, 'PENDING']);
    expect((await call(clerk, 'GET', '/ops/invoices')).body[0]?.status).toBe('PENDING_VOID');
    expect((await call(clerk, 'POST', `/ops/approvals/${asked.body.id}/approve`)).status).toBe(403);
    expect((await call(manager, 'POST', `/ops/approvals/${asked.body.id}/approve`)).body.status).toBe(
      'EXECUTED',
    );
    const after = (await call(clerk, 'GET', '/ops/invoices')).body;
    expect(after.find((i) => i.code === 'INV-2026-00001')?.status).toBe('VOID');

    expect((await call(clerk, 'PUT', '/back-office/settings/smtp', { password: 'p' })).status).toBe(403);
    expect((await call(admin, 'PUT', '/back-office/settings/smtp', { password: 'p' })).body.sealed).toMatch(
      /^tcf1:/,
    );
    const audit = await call(manager, 'GET', '/ops/audit');
    expect(audit.body.verified).toMatchObject({ ok: true });
    expect((audit.body.checkpoint as { signature: string }).signature).toMatch(/^[0-9a-f]{128}$/);
  }, 60_000);
});
