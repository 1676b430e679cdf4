import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { sourceNodeFlags } from '@tenantry/testkit';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The example's BUILT output (swc, with decorator metadata) runs as a process; the @tenantry packages
// resolve to their sources (the repository's source condition), so no package build is needed.
const dir = fileURLToPath(new URL('..', import.meta.url));
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

describe('examples/nest-minimal, built with swc', () => {
  beforeAll(async () => {
    execFileSync(process.execPath, ['build.mjs'], { cwd: dir });
    child = spawn(process.execPath, [...sourceNodeFlags(), 'dist/main.mjs'], {
      cwd: dir,
      env: { ...process.env, JWT_SECRET: secret, PORT: '0' },
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
  }, 120_000);
  afterAll(() => {
    child?.kill('SIGTERM');
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
