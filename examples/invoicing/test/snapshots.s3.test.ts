import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningApp, startApp } from '../src/app.js';
import { startS3rver } from '@tenantry/testkit/s3';
import { snapshotRestoreStep } from './story.js';

// The snapshot store of the reference deployment (docker-compose's MinIO), played by s3rver: the app is
// configured only through the S3_* variables compose sets, on the embedded database.
describe('the invoicing app with snapshots in S3 (s3rver, configured by S3_* variables)', () => {
  const bucket = 'tenantry-snapshots';
  let s3: Awaited<ReturnType<typeof startS3rver>>;
  let app: RunningApp;
  beforeAll(async () => {
    s3 = await startS3rver(bucket);
    app = await startApp({
      env: {
        S3_ENDPOINT: s3.endpoint,
        S3_BUCKET: bucket,
        S3_ACCESS_KEY_ID: 'S3RVER',
        S3_SECRET_ACCESS_KEY: 'S3RVER',
      },
      config: { port: 0 },
      rateLimit: false,
    });
  }, 180_000);
  afterAll(async () => {
    await app?.close();
    await s3?.close();
  });

  it('a snapshot lands in the bucket, its restore reads it back, and the GDPR export goes there too', async () => {
    expect(app.services.vault.storageKind).toBe('s3');
    const before = await s3.keys('');
    const { snapshotId } = await snapshotRestoreStep(app);
    const keys = await s3.keys('snapshots/');
    const mine = keys.filter((k) => k.includes(snapshotId));
    // The sealed data object and its manifest, under the configured prefix.
    expect(mine.some((k) => k.endsWith(`${snapshotId}.data`))).toBe(true);
    expect(mine.some((k) => k.endsWith(`${snapshotId}.manifest.json`))).toBe(true);
    expect(before.filter((k) => k.includes(snapshotId))).toEqual([]);
    // The restore took a safety snapshot first (the vault's default mode): also in the bucket.
    expect(keys.filter((k) => k.endsWith('.data')).length).toBeGreaterThanOrEqual(2);
    expect((await s3.keys('exports/')).some((k) => k.endsWith('app_customers.jsonl'))).toBe(true);
    // The index of snapshots is in the app's database, not in memory.
    const rows = await app.services.pool.query(
      'SELECT tenant_id, status FROM tenantry_vault_snapshots WHERE id = $1',
      [snapshotId],
    );
    expect(rows.rows).toEqual([{ tenant_id: 'acme', status: expect.any(String) }]);
  }, 240_000);
});
