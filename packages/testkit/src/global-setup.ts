import pg from 'pg';
import {
  BACKEND_KINDS,
  pgVia,
  publishPoolerRoute,
  publishResolution,
  requiredBackends,
  resolveBackend,
  type Resolution,
  runDatabasePrefix,
} from './backends.js';

/**
 * Vitest global setup: resolves every backend once, publishes URLs (or skip reasons) to the workers
 * through the environment, prints one visible line per backend, and fails the run when a backend
 * named in `REQUIRE_BACKENDS` is unavailable.
 */
export default async function setup(): Promise<() => Promise<void>> {
  const required = requiredBackends();
  process.env.TENANTRY_RUN_ID ??= `${Date.now().toString(36)}${process.pid}`;
  const resolutions: Resolution[] = await Promise.all(BACKEND_KINDS.map((k) => resolveBackend(k)));
  const missing: string[] = [];
  for (const r of resolutions) {
    publishResolution(r);
    if (r.available) {
      console.log(`[testkit] ${r.kind}: using ${redact(r.url)} (${r.source})`);
    } else {
      console.log(`[testkit] ${r.kind}: SKIPPED, suites that need it will not run: ${r.reason}`);
      if (required.has(r.kind)) missing.push(`${r.kind}: ${r.reason}`);
    }
  }
  if (missing.length > 0) {
    throw new Error(`REQUIRE_BACKENDS names unavailable backends:\n  ${missing.join('\n  ')}`);
  }
  const postgres = resolutions.find((r) => r.kind === 'postgres');
  if (pgVia() === 'pgbouncer') {
    const pooler = resolutions.find((r) => r.kind === 'pgbouncer');
    if (!postgres?.available || !pooler?.available) {
      throw new Error(
        'PG_VIA=pgbouncer needs both postgres and pgbouncer (start the pooler with .ci/pgbouncer, or set PG_POOLER_URL)',
      );
    }
    publishPoolerRoute(postgres, pooler);
    console.log(`[testkit] postgres suites run THROUGH the pooler: PG_URL=${redact(pooler.url)}`);
  }
  return async () => {
    await dropLeftoverDatabases(postgres);
    for (const r of resolutions) if (r.available && r.stop) await r.stop();
  };
}

/** Drop this run's per-file databases that were still in use when their file ended (see `useTestDatabase`). */
async function dropLeftoverDatabases(postgres: Resolution | undefined): Promise<void> {
  if (!postgres?.available) return;
  const admin = new pg.Client({ connectionString: postgres.url });
  await admin.connect();
  try {
    const { rows } = await admin.query<{ datname: string }>(
      "SELECT datname FROM pg_database WHERE datname LIKE $1 || '\\_%'",
      [runDatabasePrefix()],
    );
    for (const { datname } of rows) await admin.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}

function redact(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]+@/, '//$1:***@');
}
