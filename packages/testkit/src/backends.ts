import net from 'node:net';

/**
 * The external services a test may need. `pgbouncer` is a connection pooler in transaction mode in
 * front of the PostgreSQL server (`.ci/pgbouncer` starts one): see {@link pgVia}.
 */
export type BackendKind = 'postgres' | 'redis' | 'mongo' | 'pgbouncer';
export const BACKEND_KINDS: readonly BackendKind[] = ['postgres', 'redis', 'mongo', 'pgbouncer'];

/** Environment variables that name a backend's URL, read first. */
export const URL_ENV: Record<BackendKind, string> = {
  postgres: 'PG_URL',
  redis: 'REDIS_URL',
  mongo: 'MONGO_URL',
  pgbouncer: 'PG_POOLER_URL',
};
/**
 * Where the global setup publishes the PostgreSQL server's own URL when `PG_URL` points at the pooler
 * (`PG_VIA=pgbouncer`); tests take it for what needs a session (LISTEN) and for administration.
 */
export const PG_DIRECT_URL_ENV = 'PG_DIRECT_URL';
/** Where the global setup records why a backend is unavailable, for the test workers. */
const SKIP_ENV: Record<BackendKind, string> = {
  postgres: 'TENANTRY_SKIP_POSTGRES',
  redis: 'TENANTRY_SKIP_REDIS',
  mongo: 'TENANTRY_SKIP_MONGO',
  pgbouncer: 'TENANTRY_SKIP_PGBOUNCER',
};
const LOCAL_DEFAULT: Record<BackendKind, { url: string; host: string; port: number }> = {
  postgres: { url: 'postgres://postgres@127.0.0.1:5432/postgres', host: '127.0.0.1', port: 5432 },
  redis: { url: 'redis://127.0.0.1:6379', host: '127.0.0.1', port: 6379 },
  mongo: { url: 'mongodb://127.0.0.1:27017/?replicaSet=rs0', host: '127.0.0.1', port: 27017 },
  pgbouncer: { url: 'postgres://postgres@127.0.0.1:6432/postgres', host: '127.0.0.1', port: 6432 },
};

/**
 * How the PostgreSQL suites reach the server: `'direct'` (default), or `'pgbouncer'` when `PG_VIA=pgbouncer`:
 * then the global setup publishes the pooler's URL as `PG_URL` (every suite runs through it unchanged)
 * and the server's own as `PG_DIRECT_URL`, and a missing pooler fails the run.
 */
export function pgVia(): 'direct' | 'pgbouncer' {
  return process.env.PG_VIA === 'pgbouncer' ? 'pgbouncer' : 'direct';
}

/** Backends whose absence fails the run instead of skipping, from `REQUIRE_BACKENDS=postgres,redis`. */
export function requiredBackends(): Set<BackendKind> {
  const raw = process.env.REQUIRE_BACKENDS ?? '';
  return new Set(
    raw
      .split(',')
      .map((s) => s.trim())
      .filter((s): s is BackendKind => (BACKEND_KINDS as readonly string[]).includes(s)),
  );
}

function portOpen(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** Result of resolving one backend. */
export type Resolution =
  | {
      kind: BackendKind;
      available: true;
      url: string;
      source: 'env' | 'local' | 'testcontainers';
      stop?: () => Promise<void>;
    }
  | { kind: BackendKind; available: false; reason: string };

async function startContainer(kind: BackendKind): Promise<Resolution | string> {
  if (kind === 'pgbouncer') return 'no container for it here: start one with .ci/pgbouncer';
  let tc: typeof import('testcontainers');
  try {
    tc = await import('testcontainers');
    await tc.getContainerRuntimeClient();
  } catch (error) {
    return `no container runtime (${(error as Error).message.split('\n')[0]})`;
  }
  if (kind === 'postgres') {
    const c = await new tc.GenericContainer('postgres:15')
      .withEnvironment({ POSTGRES_HOST_AUTH_METHOD: 'trust' })
      .withExposedPorts(5432)
      .withWaitStrategy(tc.Wait.forLogMessage(/ready to accept connections/, 2))
      .start();
    return {
      kind,
      available: true,
      source: 'testcontainers',
      url: `postgres://postgres@${c.getHost()}:${c.getMappedPort(5432)}/postgres`,
      stop: async () => void (await c.stop()),
    };
  }
  if (kind === 'redis') {
    const c = await new tc.GenericContainer('redis:7').withExposedPorts(6379).start();
    return {
      kind,
      available: true,
      source: 'testcontainers',
      url: `redis://${c.getHost()}:${c.getMappedPort(6379)}`,
      stop: async () => void (await c.stop()),
    };
  }
  const c = await new tc.GenericContainer('mongo:7')
    .withCommand(['--replSet', 'rs0', '--bind_ip_all'])
    .withExposedPorts(27017)
    .start();
  await c.exec([
    'mongosh',
    '--quiet',
    '--eval',
    "rs.initiate({_id:'rs0',members:[{_id:0,host:'localhost:27017'}]})",
  ]);
  return {
    kind,
    available: true,
    source: 'testcontainers',
    url: `mongodb://${c.getHost()}:${c.getMappedPort(27017)}/?directConnection=true`,
    stop: async () => void (await c.stop()),
  };
}

/**
 * Resolve a backend: the environment URL first, then the local default port, then testcontainers when
 * a container runtime answers; otherwise unavailable, with the reason. Mongo's local default is only
 * used when `MONGO_URL` is unset and a server answers on 27017.
 */
export async function resolveBackend(kind: BackendKind): Promise<Resolution> {
  const fromEnv = process.env[URL_ENV[kind]];
  if (fromEnv) return { kind, available: true, url: fromEnv, source: 'env' };
  const local = LOCAL_DEFAULT[kind];
  if (await portOpen(local.host, local.port))
    return { kind, available: true, url: local.url, source: 'local' };
  const container = await startContainer(kind);
  if (typeof container !== 'string') return container;
  return {
    kind,
    available: false,
    reason: `${URL_ENV[kind]} unset, nothing listening on ${local.host}:${local.port}, ${container}`,
  };
}

/** Record a resolution in the environment so test workers and their child processes see it. */
export function publishResolution(r: Resolution): void {
  if (r.kind === 'postgres') delete process.env[PG_DIRECT_URL_ENV];
  if (r.available) {
    process.env[URL_ENV[r.kind]] = r.url;
    delete process.env[SKIP_ENV[r.kind]];
  } else {
    delete process.env[URL_ENV[r.kind]];
    process.env[SKIP_ENV[r.kind]] = r.reason;
  }
}

/** In a test worker: the URL of a backend, or the reason it is unavailable. */
export function backendStatus(
  kind: BackendKind,
): { available: true; url: string } | { available: false; reason: string } {
  const url = process.env[URL_ENV[kind]];
  if (url && !process.env[SKIP_ENV[kind]]) return { available: true, url };
  return {
    available: false,
    reason: process.env[SKIP_ENV[kind]] ?? `${URL_ENV[kind]} unset (global setup did not run)`,
  };
}

/**
 * Route the PostgreSQL suites through the pooler (`PG_VIA=pgbouncer`): `PG_URL` becomes the pooler's URL,
 * `PG_DIRECT_URL` the server's. Both must be available (checked by the caller).
 */
export function publishPoolerRoute(postgres: Resolution, pooler: Resolution): void {
  if (!postgres.available || !pooler.available) return;
  process.env[PG_DIRECT_URL_ENV] = postgres.url;
  process.env[URL_ENV.postgres] = pooler.url;
}

/**
 * In a test worker: the PostgreSQL server's own URL for `url` (same database and user), for what needs
 * a session of its own (LISTEN, session advisory locks) or administration (CREATE/DROP DATABASE).
 * When the suites run through the pooler, `url`'s host and port are replaced by the server's;
 * otherwise `url` is returned as it is.
 */
export function directPgUrl(url: string): string {
  const direct = process.env[PG_DIRECT_URL_ENV];
  const pooled = process.env[URL_ENV.postgres];
  if (!direct || !pooled) return url;
  const u = new URL(url);
  const p = new URL(pooled);
  if (u.host !== p.host) return url;
  const d = new URL(direct);
  u.host = d.host;
  return u.toString();
}

/**
 * The name prefix of this run's per-file databases (`tk_<run id>`), so the global teardown drops only
 * this run's leftovers, never another run's on a shared server.
 */
export function runDatabasePrefix(): string {
  const run = (process.env.TENANTRY_RUN_ID ?? 'local')
    .replace(/[^a-z0-9]/gi, '')
    .toLowerCase()
    .slice(0, 16);
  return `tk_${run}`;
}
