import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadConfig, resolveDataDir } from '../src/config.js';
import { s3ClientConfig } from '../src/vault-slot.js';

// The app's configuration as `npm start` / `npm run example` hands it over (loadConfig reads only the
// environment it is given; INIT_CWD is what npm sets to the directory the user ran it from).
const KEK = { TENANTRY_KEK: Buffer.alloc(32, 7).toString('base64') };

describe('DATA_DIR', () => {
  it('a relative DATA_DIR lands under INIT_CWD (where npm was run), not the workspace directory', () => {
    const initCwd = join(tmpdir(), 'repo-root');
    const config = loadConfig({ ...KEK, DATA_DIR: './data', INIT_CWD: initCwd });
    expect(config.dataDir).toBe(join(initCwd, 'data'));
    expect(config.dataDir).not.toBe(resolve(process.cwd(), 'data'));
  });

  it('without INIT_CWD (run by node directly), a relative DATA_DIR is relative to the process cwd', () => {
    expect(loadConfig({ ...KEK, DATA_DIR: 'state/x' }).dataDir).toBe(resolve(process.cwd(), 'state/x'));
    expect(resolveDataDir('state', '')).toBe(resolve(process.cwd(), 'state'));
  });

  it('an absolute DATA_DIR is kept as it is; unset or empty means in memory', () => {
    const abs = join(tmpdir(), 'abs-data');
    expect(loadConfig({ ...KEK, DATA_DIR: abs, INIT_CWD: '/elsewhere' }).dataDir).toBe(abs);
    expect(loadConfig({ INIT_CWD: '/elsewhere' }).dataDir).toBeUndefined();
    expect(loadConfig({ DATA_DIR: '', INIT_CWD: '/elsewhere' }).dataDir).toBeUndefined();
  });
});

describe('S3_* (snapshot store)', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('S3_BUCKET alone enables S3 on AWS: no endpoint, no path-style, credentials from the SDK default chain', async () => {
    const config = loadConfig({ S3_BUCKET: 'snaps', S3_REGION: 'eu-west-1' });
    expect(config.snapshots).toEqual({
      endpoint: undefined,
      bucket: 'snaps',
      region: 'eu-west-1',
      credentials: undefined,
    });
    const options = s3ClientConfig(config.snapshots!);
    expect(options).toEqual({ region: 'eu-west-1' });
    // The client really resolves keys through the default chain (here: the environment provider).
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIAFROMENV');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'secret-from-env');
    const client = new S3Client(options);
    try {
      expect(client.config.forcePathStyle).toBeFalsy();
      const credentials = await client.config.credentials();
      expect(credentials.accessKeyId).toBe('AKIAFROMENV');
      expect(credentials.secretAccessKey).toBe('secret-from-env');
    } finally {
      client.destroy();
    }
  });

  it('S3_ENDPOINT with both keys: that store, path-style, explicit credentials (compose with MinIO)', async () => {
    const config = loadConfig({
      S3_ENDPOINT: 'http://objects:9000',
      S3_BUCKET: 'tenantry-snapshots',
      S3_ACCESS_KEY_ID: 'tenantry',
      S3_SECRET_ACCESS_KEY: 'minio-secret',
    });
    expect(config.snapshots).toEqual({
      endpoint: 'http://objects:9000',
      bucket: 'tenantry-snapshots',
      region: 'us-east-1',
      credentials: { accessKeyId: 'tenantry', secretAccessKey: 'minio-secret' },
    });
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIAFROMENV');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'secret-from-env');
    const client = new S3Client(s3ClientConfig(config.snapshots!));
    try {
      expect(client.config.forcePathStyle).toBe(true);
      const credentials = await client.config.credentials();
      expect(credentials.accessKeyId).toBe('tenantry');
      expect(credentials.secretAccessKey).toBe('minio-secret');
    } finally {
      client.destroy();
    }
  });

  it('S3_ENDPOINT without S3_BUCKET does not enable S3', () => {
    expect(loadConfig({ S3_ENDPOINT: 'http://objects:9000' }).snapshots).toBeUndefined();
  });

  it.each([
    [{ S3_ACCESS_KEY_ID: 'tenantry' }, /S3_ACCESS_KEY_ID is set without S3_SECRET_ACCESS_KEY/],
    [{ S3_SECRET_ACCESS_KEY: 'minio-secret' }, /S3_SECRET_ACCESS_KEY is set without S3_ACCESS_KEY_ID/],
    [{ S3_ACCESS_KEY_ID: 'tenantry', S3_SECRET_ACCESS_KEY: '' }, /S3_ACCESS_KEY_ID is set without/],
  ])('half a key pair %o is a start-up error naming the missing variable', (keys, message) => {
    expect(() => loadConfig({ S3_BUCKET: 'snaps', ...keys })).toThrow(
      expect.objectContaining({ code: 'INVOICING_CONFIG_INVALID', message: expect.stringMatching(message) }),
    );
  });
});
