// The README's quick start, run as written (issue 16: followed as written, every valid token got
// 404 TENANT_NOT_FOUND because the store was empty). The block is read from the README, written to a
// file and run in a child process; only the IdP's origin (to a JWKS server of this test, loopback
// http being allowed for tests) and the port (to a free one) are replaced, each checked to be there.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { hasBackend, skipLabel } from '@tenantry/testkit';
import { exportJWK, generateKeyPair, type JWTPayload, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const pkg = join(import.meta.dirname, '..');
const root = join(pkg, '..', '..');
const readme = readFileSync(join(pkg, 'README.md'), 'utf8');
const section = readme.slice(readme.indexOf('\n## Quick start\n'));
const block = /^```ts\n([\s\S]*?)^```/m.exec(section)?.[1] ?? '';
const IDP = 'https://idp.example.com/';
const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm')).href;

/** A port nothing listens on right now. */
async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

describe.skipIf(!hasBackend('redis'))(
  `express README quick start, run as written${skipLabel('redis')}`,
  () => {
    let jwks: Server;
    let issuer: string;
    let base: string;
    let child: ChildProcess;
    let output = '';
    let sign: (claims: JWTPayload) => Promise<string>;
    const file = join(pkg, '.tenantry-tmp', `readme-quick-start-${process.pid}.ts`);

    beforeAll(async () => {
      expect(block, 'the README has a ```ts block under "## Quick start"').toContain('tenancy(');
      const { publicKey, privateKey } = await generateKeyPair('RS256');
      const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
      jwks = createServer((_req, res) => {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ keys: [jwk] }));
      });
      await new Promise<void>((r) => jwks.listen(0, '127.0.0.1', r));
      issuer = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/`;
      sign = (claims) =>
        new SignJWT(claims)
          .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
          .setSubject('u1')
          .setIssuer(issuer)
          .setAudience('billing-api')
          .setIssuedAt()
          .setExpirationTime('5m')
          .sign(privateKey);

      const port = await freePort();
      expect(block.split(IDP).length - 1, `the block names the IdP ${IDP} (jwksUrl and issuer)`).toBe(2);
      expect(block, 'the block listens on 3000').toContain('app.listen(3000)');
      const code = block.replaceAll(IDP, issuer).replace('app.listen(3000)', `app.listen(${port})`);
      mkdirSync(join(pkg, '.tenantry-tmp'), { recursive: true });
      writeFileSync(file, code);
      child = spawn(process.execPath, ['--conditions=@tenantry/source', '--import', tsx, file], {
        cwd: root,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child.stdout?.on('data', (d) => (output += d));
      child.stderr?.on('data', (d) => (output += d));
      base = `http://127.0.0.1:${port}`;
      const deadline = Date.now() + 60_000;
      for (;;) {
        if (child.exitCode !== null) throw new Error(`the quick start exited ${child.exitCode}:\n${output}`);
        const up = await fetch(`${base}/health/live`).then(
          (r) => r.ok,
          () => false,
        );
        if (up) break;
        if (Date.now() > deadline) throw new Error(`the quick start did not listen within 60 s:\n${output}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    }, 90_000);

    afterAll(async () => {
      if (child && child.exitCode === null) child.kill('SIGKILL');
      await new Promise((r) => jwks?.close(r));
      rmSync(file, { force: true });
    });

    it('a valid token for the onboarded tenant gets 200 with that tenant', async () => {
      const res = await fetch(`${base}/ops/invoices`, {
        headers: { authorization: `Bearer ${await sign({ tenant_id: 'acme', roles: ['USER'] })}` },
      });
      expect(res.status, output).toBe(200);
      expect(await res.json()).toEqual({ tenant: 'acme' });
    });

    it('a MANAGER of that tenant can POST the audited, fail-closed payout route (201)', async () => {
      const res = await fetch(`${base}/ops/payouts/7`, {
        method: 'POST',
        headers: { authorization: `Bearer ${await sign({ tenant_id: 'acme', roles: ['MANAGER'] })}` },
      });
      expect(res.status, output).toBe(201);
      expect(await res.json()).toEqual({ id: '7' });
    });

    it('a valid token for a tenant the store does not hold still gets 404 TENANT_NOT_FOUND', async () => {
      const res = await fetch(`${base}/ops/invoices`, {
        headers: { authorization: `Bearer ${await sign({ tenant_id: 'globex', roles: ['USER'] })}` },
      });
      expect(res.status).toBe(404);
      expect(((await res.json()) as { code?: string }).code).toBe('TENANT_NOT_FOUND');
    });

    it('SIGTERM closes it and the process exits by itself with 0', async () => {
      const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      child.kill('SIGTERM');
      expect(await exited, output).toBe(0);
    }, 20_000);
  },
);
