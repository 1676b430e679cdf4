import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type RunningApp, startApp } from '../src/app.js';
import type { DocumentRow } from '../src/documents.js';
import { ApiClient } from './helpers.js';

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
