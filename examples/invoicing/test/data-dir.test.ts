import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { type RunningApp, startApp } from '../src/app.js';
import type { DocumentRow } from '../src/documents.js';
import { ApiClient } from './helpers.js';

const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm')).href;

/** Every file under `dir`, as paths relative to it. */
const files = (dir: string): string[] =>
  readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1));

// DATA_DIR without a server or S3: the embedded PGlite and the vault's file-system storage on disk, so
// a snapshot taken before a restart is listed and restored after it.
describe('the invoicing app with DATA_DIR (PGlite and snapshots on disk)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'invoicing-data-'));
  const env = { DATA_DIR: dataDir, TENANTRY_KEK: Buffer.alloc(32, 7).toString('base64') };
  let app: RunningApp | undefined;
  afterAll(async () => {
    await app?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('keeps the database and the snapshots across a restart, and restores from disk', async () => {
    app = await startApp({ env, config: { port: 0 }, rateLimit: false });
    expect(app.services.vault.storageKind).toBe('fs');
    const admin = await ApiClient.signIn(app, 'admin@acme.test');
    const snap = await admin.ok<{ snapshotId: string }>('POST', '/back-office/snapshots', undefined, 201);
    const stored = files(join(dataDir, 'snapshots')).filter((f) => f.includes(snap.snapshotId));
    expect(stored.some((f) => f.endsWith(`${snap.snapshotId}.data`))).toBe(true);
    expect(stored.some((f) => f.endsWith(`${snap.snapshotId}.manifest.json`))).toBe(true);
    const clerk = await ApiClient.signIn(app, 'clerk@acme.test');
    const late = await clerk.ok<DocumentRow>(
      'POST',
      '/ops/invoices',
      { customerId: 'acme-wayne', amountCents: 42 },
      201,
    );
    await app.close();

    app = await startApp({ env, config: { port: 0 }, rateLimit: false });
    expect(app.seeded).toBe(false); // the demo data came back from disk, not from a new seed
    const admin2 = await ApiClient.signIn(app, 'admin@acme.test');
    const clerk2 = await ApiClient.signIn(app, 'clerk@acme.test');
    expect((await clerk2.ok<DocumentRow>('GET', `/ops/invoices/${late.id}`)).amountCents).toBe(42);
    const listed = await admin2.ok<Array<{ id: string }>>('GET', '/back-office/snapshots');
    expect(listed.map((x) => x.id)).toContain(snap.snapshotId);
    await admin2.ok('POST', `/back-office/snapshots/${snap.snapshotId}/restore`);
    // The invoice issued after the snapshot is gone again.
    expect((await clerk2.call('GET', `/ops/invoices/${late.id}`)).status).toBe(404);
  }, 300_000);
});

// `npm run example` at the repository root runs src/main.ts inside examples/invoicing with INIT_CWD
// set to the root: a relative DATA_DIR must land under INIT_CWD, and the start-up line must say so.
describe('src/main.ts with a relative DATA_DIR, as npm starts it', () => {
  const initCwd = mkdtempSync(join(tmpdir(), 'invoicing-init-cwd-'));
  let child: ChildProcess | undefined;
  afterAll(() => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    rmSync(initCwd, { recursive: true, force: true });
  });

  it('puts PGlite under INIT_CWD/<DATA_DIR>/pglite and prints that path, not "in memory"', async () => {
    const main = fileURLToPath(new URL('../src/main.ts', import.meta.url));
    child = spawn(process.execPath, ['--conditions=@tenantry/source', '--import', tsx, main], {
      cwd: fileURLToPath(new URL('..', import.meta.url)), // where npm runs the workspace script
      env: {
        ...process.env,
        INIT_CWD: initCwd,
        DATA_DIR: './data',
        PORT: '0',
        TENANTRY_KEK: Buffer.alloc(32, 7).toString('base64'),
        DATABASE_URL: '',
        REDIS_URL: '',
        S3_BUCKET: '',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stderr?.on('data', (d) => (output += d));
    await new Promise<void>((done, fail) => {
      child!.stdout?.on('data', (d) => {
        output += d;
        if (output.includes('Vault:')) done();
      });
      child!.once('exit', (code) => fail(new Error(`main.ts exited ${code}:\n${output}`)));
    });
    const pglite = join(initCwd, 'data', 'pglite');
    expect(output).toContain(`embedded PGlite (on disk under ${pglite})`);
    expect(output).not.toContain('in memory');
    expect(output).toContain(`under ${join(initCwd, 'data', 'snapshots')}`);
    expect(existsSync(pglite)).toBe(true);
    const exited = new Promise((r) => child!.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }, 120_000);
});
