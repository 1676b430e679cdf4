import { runAsSystem, runAsTenant } from '@tenantry/core';
import { MemoryAuditPort } from '@tenantry/core';
import { uniqueId, withDatabase } from '@tenantry/testkit';
import pg from 'pg';
import type {
  AppendOptions,
  AuditLog,
  AuditQuery,
  AuditSink,
  ChainedEvent,
  PreparedEvent,
  TrailKey,
  VerifyOptions,
} from '../src/index.js';
import { runMigrations } from '@tenantry/core/postgres';
import { auditGrantsSql, auditMigrations } from '../src/postgres.js';

/** Run `fn` as a user of `tenantId` (the audit API acts for the context's tenant). */
export const asTenant = <R>(tenantId: string, fn: () => Promise<R> | R): Promise<R> =>
  Promise.resolve(runAsTenant({ tenantId, actor: { id: 'test-user', roles: ['TENANT_ADMIN'] } }, fn));

/** The log's tenant-scoped calls, each run as a user of `tenantId`. */
export const inTenant = (tenantId: string, log: AuditLog) => ({
  record: (e: Parameters<AuditLog['record']>[0]) => asTenant(tenantId, () => log.record(e)),
  verify: (t?: TrailKey, o?: VerifyOptions) => asTenant(tenantId, () => log.verify(t, o)),
  query: (q?: AuditQuery) => asTenant(tenantId, () => log.query(q)),
  checkpoint: (t?: TrailKey) => asTenant(tenantId, () => log.checkpoint(t)),
});

/** Run `fn` in an audited system scope (its entry is recorded in a throwaway port). */
export const asSystem = <R>(fn: () => Promise<R> | R): Promise<R> =>
  runAsSystem({ actor: { id: 'ops', kind: 'service' }, reason: 'test' }, new MemoryAuditPort(), fn);

/**
 * A sink that delegates to a real one, with `append` replaced (fault injection around the store,
 * not a mock of it). Methods are bound, so it works for class-based sinks.
 */
export function withAppend(
  inner: AuditSink,
  append: (events: readonly PreparedEvent[], opts: AppendOptions | undefined) => Promise<ChainedEvent[]>,
  name = `faulty-${inner.name}`,
): AuditSink {
  const bound = (k: 'head' | 'readChain' | 'query' | 'putCheckpoint' | 'listCheckpoints') => {
    const f = inner[k];
    return typeof f === 'function' ? (f.bind(inner) as never) : undefined;
  };
  return {
    name,
    capabilities: inner.capabilities,
    append,
    head: bound('head'),
    readChain: bound('readChain'),
    query: bound('query'),
    putCheckpoint: bound('putCheckpoint'),
    listCheckpoints: bound('listCheckpoints'),
  };
}

/**
 * Apply `auditMigrations` with core's `runMigrations` as the database owner, and create a non-owner
 * application role with the shipped grants.
 */
export async function migrateWithAppRole(
  url: string,
): Promise<{ appUrl: string; role: string; dropRole: () => Promise<void> }> {
  const owner = new pg.Pool({ connectionString: url, max: 1 });
  try {
    await runMigrations(owner, auditMigrations);
  } finally {
    await owner.end();
  }
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  const role = uniqueId('audit_app');
  try {
    await admin.query(`CREATE ROLE ${role} LOGIN NOSUPERUSER NOBYPASSRLS`);
    await admin.query(auditGrantsSql(role));
  } finally {
    await admin.end();
  }
  const u = new URL(url);
  u.username = role;
  return {
    appUrl: u.toString(),
    role,
    dropRole: async () => {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      try {
        await c.query(`DROP OWNED BY ${role}`);
        await c.query(`DROP ROLE IF EXISTS ${role}`);
      } finally {
        await c.end();
      }
    },
  };
}

export { withDatabase };
