import { randomBytes } from 'node:crypto';
import { isAbsolute, resolve } from 'node:path';
import { generateCheckpointKeys } from '@tenantry/audit';
import { z } from 'zod';
import { InvoicingError } from './errors.js';

/**
 * Every environment variable the app reads, with what it is for. The compose-file test checks that
 * `docker-compose.yml` sets only these, and the README's deployment table lists them.
 */
export const ENV_VARS = {
  PORT: 'HTTP port (default 3000; 0 picks a free one)',
  HOST: 'interface to listen on (default 127.0.0.1; 0.0.0.0 in a container)',
  DATABASE_URL: 'PostgreSQL URL; unset: embedded PGlite through its socket server',
  DATABASE_APP_URL:
    'PostgreSQL URL of a LOGIN role that is a member of invoicing_app (no superuser, no BYPASSRLS), for the tenant pool; unset: the DATABASE_URL user switches to invoicing_app on every checkout',
  REDIS_URL: 'Redis URL for rate limits and sign-in lockout shared by every instance; unset: per process',
  JWT_SECRET:
    'HS256 secret (32+ bytes) the app signs sessions with and the adapter verifies; unset: random per start',
  TENANTRY_KEK:
    'key-encryption key for crypto-fields, 32 bytes base64; unset: random per start (embedded only)',
  TENANTRY_KEK_ID: 'id of that key in ciphertexts (default kek1); add the next key under a new id to rotate',
  AUDIT_SIGNING_KEY: 'Ed25519 secret key (hex) that signs audit checkpoints; unset: random per start',
  AUDIT_PUBLIC_KEY: 'the matching public key (hex), published to whoever checks exports',
  SEED_DEMO: 'seed the demo partners, tenants and users when the database is empty (default true)',
  DATA_DIR:
    'directory for state on disk: the embedded PGlite (without DATABASE_URL) and vault snapshots (without S3_BUCKET); a relative path is relative to where you ran npm (INIT_CWD); unset: in memory',
  S3_BUCKET: 'bucket of vault snapshots and GDPR exports (must exist); set: snapshots go to S3',
  S3_ENDPOINT: 'endpoint of an S3-compatible store (MinIO, …; path-style addressing); unset: AWS S3',
  S3_REGION: 'region of the snapshot store (default us-east-1; MinIO accepts any)',
  S3_ACCESS_KEY_ID:
    'access key of the snapshot store (with S3_SECRET_ACCESS_KEY); unset: the AWS SDK default chain',
  S3_SECRET_ACCESS_KEY: 'secret key of the snapshot store (with S3_ACCESS_KEY_ID)',
  MONGO_URL:
    'MongoDB URL (mongodb:// or mongodb+srv://; the database is the path, default invoicing): set, the audit chain, approval requests and policies, wrapped data keys and the snapshot index live in MongoDB (indexes created at start); tenants, plans, settings, quotas, counters and the app tables stay on PostgreSQL/PGlite (foreign keys, and the number allocated in the document transaction); unset: all on PostgreSQL/PGlite',
} as const;
export type EnvVar = keyof typeof ENV_VARS;

/** The app's configuration, resolved once at start. */
export interface AppConfig {
  readonly port: number;
  readonly host: string;
  readonly databaseUrl: string | undefined;
  /**
   * The tenant pool's URL: a LOGIN role that is a member of `invoicing_app` (row-level security
   * applies to it). Only with `databaseUrl`. Unset: the `databaseUrl` user `SET ROLE`s on checkout.
   */
  readonly databaseAppUrl: string | undefined;
  readonly redisUrl: string | undefined;
  readonly jwtSecret: string;
  readonly kek: { readonly id: string; readonly key: string };
  readonly audit: { readonly signingKey: string; readonly publicKey: string };
  readonly seedDemo: boolean;
  /**
   * Directory of state on disk: `<dir>/pglite` holds the embedded database when there is no
   * `databaseUrl`, `<dir>/snapshots` the vault's snapshots when there is no S3 store. Unset: both in memory.
   */
  readonly dataDir: string | undefined;
  /**
   * The S3 store of vault snapshots (`@tenantry/vault/s3`), when `S3_BUCKET` is set. `endpoint` unset:
   * AWS S3 (virtual-hosted addressing); set: an S3-compatible store, addressed path-style.
   * `credentials` unset: the AWS SDK's default chain (environment, shared config, instance or task role).
   */
  readonly snapshots:
    | {
        readonly endpoint: string | undefined;
        readonly bucket: string;
        readonly region: string;
        readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string } | undefined;
      }
    | undefined;
  /**
   * MongoDB for the stores of the Mongo variant (`MONGO_URL`): the audit sink, the approval store, the
   * data-key store and the vault's snapshot index. `url` as given (it may hold credentials: never
   * logged), `dbName` from its path (default `invoicing`). Unset: those stores are on PostgreSQL/PGlite.
   */
  readonly mongo: MongoConfig | undefined;
}

/** Where the Mongo variant's stores live. */
export interface MongoConfig {
  readonly url: string;
  /** The database of every collection (`tenantry_*`), from the URL's path; default `invoicing`. */
  readonly dbName: string;
}

/**
 * `MONGO_URL`: a `mongodb://` or `mongodb+srv://` URL with a host; the path, when present, is the
 * database name (1–63 letters, digits, `_` or `-`: a subset of what MongoDB allows). Checked here so that a typo
 * stops the start with `INVOICING_CONFIG_INVALID` rather than at the first audit write.
 */
export const MongoUrlSchema = z
  .string()
  .max(4096)
  .transform((raw, ctx): MongoConfig => {
    // Several hosts (a replica set) are not a WHATWG URL: parse with a single placeholder host.
    const m = /^(mongodb(?:\+srv)?):\/\/(?:[^@/]*@)?([^/?#]+)(\/[^?#]*)?(\?[^#]*)?$/.exec(raw);
    if (!m) {
      ctx.addIssue({
        code: 'custom',
        message: 'must be mongodb://[user:pass@]host[:port][,host…][/db][?options] or mongodb+srv://…',
      });
      return z.NEVER;
    }
    const hosts = (m[2] ?? '').split(',');
    if (hosts.some((h) => !/^[A-Za-z0-9.\-_]+(?::\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](?::\d{1,5})?$/.test(h))) {
      ctx.addIssue({ code: 'custom', message: 'has a malformed host list' });
      return z.NEVER;
    }
    if (m[1] === 'mongodb+srv' && (hosts.length !== 1 || hosts[0]?.includes(':'))) {
      ctx.addIssue({ code: 'custom', message: 'mongodb+srv takes one host name without a port' });
      return z.NEVER;
    }
    const path = decodeURIComponent((m[3] ?? '').slice(1));
    if (path !== '' && !/^[A-Za-z0-9_-]{1,63}$/.test(path)) {
      ctx.addIssue({ code: 'custom', message: 'names a database other than 1-63 letters, digits, _ or -' });
      return z.NEVER;
    }
    return { url: raw, dbName: path || 'invoicing' };
  });

/** `MONGO_URL` parsed, or `undefined` when unset or empty. @throws InvoicingError `INVOICING_CONFIG_INVALID` (without the URL: it may hold a password) */
export function mongoConfig(url: string | undefined): MongoConfig | undefined {
  if (url === undefined || url === '') return undefined;
  const r = MongoUrlSchema.safeParse(url);
  if (!r.success) {
    throw new InvoicingError(
      'INVOICING_CONFIG_INVALID',
      `MONGO_URL ${r.error.issues[0]?.message ?? 'is not a MongoDB URL'}`,
    );
  }
  return r.data;
}

/** The variables the app reads, plus `INIT_CWD`, which npm sets (not the user) to where `npm` was run. */
type Env = Partial<Record<EnvVar | 'INIT_CWD', string>>;

/**
 * `DATA_DIR` as an absolute path. A relative one is resolved against the directory the user ran
 * `npm start` / `npm run example` from (`INIT_CWD`), not the process's cwd: npm runs the workspace
 * script inside `examples/invoicing`, so `./data` typed at the repository root would land there.
 */
export function resolveDataDir(dataDir: string | undefined, initCwd: string | undefined): string | undefined {
  if (!dataDir) return undefined;
  return isAbsolute(dataDir) ? dataDir : resolve(initCwd || process.cwd(), dataDir);
}

/** The S3 snapshot store from `S3_*`; throws `INVOICING_CONFIG_INVALID` for half a key pair. */
function s3Config(env: Env): AppConfig['snapshots'] {
  if (!env.S3_BUCKET) return undefined;
  const id = env.S3_ACCESS_KEY_ID || undefined;
  const secret = env.S3_SECRET_ACCESS_KEY || undefined;
  if ((id === undefined) !== (secret === undefined)) {
    // Filling the missing half with '' would only fail later, at the first snapshot, as a signature error.
    throw new InvoicingError(
      'INVOICING_CONFIG_INVALID',
      `${id === undefined ? 'S3_SECRET_ACCESS_KEY' : 'S3_ACCESS_KEY_ID'} is set without ${id === undefined ? 'S3_ACCESS_KEY_ID' : 'S3_SECRET_ACCESS_KEY'}: set both, or neither to use the AWS SDK's default credential chain`,
    );
  }
  return {
    endpoint: env.S3_ENDPOINT || undefined,
    bucket: env.S3_BUCKET,
    region: env.S3_REGION || 'us-east-1',
    credentials:
      id !== undefined && secret !== undefined ? { accessKeyId: id, secretAccessKey: secret } : undefined,
  };
}

/** Read the configuration from `env` (default `process.env`); overrides win (tests). */
export function loadConfig(env: Env = process.env as Env, overrides: Partial<AppConfig> = {}): AppConfig {
  const production = env.DATABASE_URL !== undefined && env.DATABASE_URL !== '';
  const dataDir = resolveDataDir(env.DATA_DIR, env.INIT_CWD);
  const mongo = mongoConfig(env.MONGO_URL);
  if (mongo && !production && !dataDir) {
    // In-memory PGlite forgets the tenants at every stop, while MongoDB would keep their audit chains,
    // wrapped keys and snapshot index (a reseed would then collide with the old chains).
    throw new InvoicingError(
      'INVOICING_CONFIG_INVALID',
      'MONGO_URL needs DATABASE_URL (or DATA_DIR for an embedded database on disk): the in-memory database would not outlive the stores in MongoDB',
    );
  }
  // MongoDB keeps the wrapped data keys: as persistent as a server database.
  if ((production || dataDir || mongo) && (env.TENANTRY_KEK === undefined || env.TENANTRY_KEK === '')) {
    // A random KEK on a persistent database (a server, or PGlite on disk) would make every sealed secret unreadable after a restart.
    console.warn('TENANTRY_KEK is not set: sealed settings will not survive a restart');
  }
  const keys =
    env.AUDIT_SIGNING_KEY && env.AUDIT_PUBLIC_KEY
      ? { signingKey: env.AUDIT_SIGNING_KEY, publicKey: env.AUDIT_PUBLIC_KEY }
      : (() => {
          const k = generateCheckpointKeys();
          return { signingKey: k.secretKey, publicKey: k.publicKey };
        })();
  const s3 = s3Config(env);
  return {
    port: env.PORT === undefined || env.PORT === '' ? 3000 : Number(env.PORT),
    host: env.HOST || '127.0.0.1',
    databaseUrl: production ? env.DATABASE_URL : undefined,
    databaseAppUrl: production ? env.DATABASE_APP_URL || undefined : undefined,
    redisUrl: env.REDIS_URL || undefined,
    jwtSecret: env.JWT_SECRET || randomBytes(32).toString('base64url'),
    kek: { id: env.TENANTRY_KEK_ID || 'kek1', key: env.TENANTRY_KEK || randomBytes(32).toString('base64') },
    audit: keys,
    seedDemo: env.SEED_DEMO !== 'false',
    dataDir,
    snapshots: s3,
    mongo,
    ...overrides,
  };
}
