// Shared set-up of the row-level security tests: tables made tenant tables by `tenantTableSql`, owned
// by a dedicated owner role, and an application role (LOGIN, not superuser, not owner, no BYPASSRLS)
// created per test file. Roles are cluster-wide, so names are unique and dropped afterwards.
import { uniqueId, withDatabase } from '@tenantry/testkit';
import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import { type TenantUnitOfWork, type TenantUnitOfWorkRunOptions, tenantTableSql } from '../src/postgres.js';
import { MemoryAuditPort, type PgUnitOfWorkClient, runAsSystem, runAsTenant } from '../src/index.js';

export interface RlsDb {
  /** Superuser pool on the test database. */
  admin: pg.Pool;
  /** Pool connected as the application role. */
  app: pg.Pool;
  /** Whether `app` (and pools a test makes with {@link RlsDb.poolAs}) run `pg` in pipeline mode. */
  pipeline: boolean;
  /** A pool connected as `role`, in the file's pipeline mode (the test ends it). */
  poolAs(role: string, max: number): pg.Pool;
  appRole: string;
  ownerRole: string;
  /** A URL connecting to the test database as `role`. */
  urlAs(role: string): string;
  /** Create a LOGIN role that is dropped after the file (with `extra` attributes, e.g. BYPASSRLS). */
  createRole(prefix: string, extra?: string): Promise<string>;
}

export function useRlsDatabase(
  db: { url: () => string; name: () => string },
  appPoolMax = 2,
  pipeline = false,
): () => RlsDb {
  let state: RlsDb | undefined;
  const roles: string[] = [];
  beforeAll(async () => {
    const admin = new pg.Pool({ connectionString: db.url(), max: 2 });
    const urlAs = (role: string) => {
      const u = new URL(db.url());
      u.username = role;
      return u.toString();
    };
    const createRole = async (prefix: string, extra = '') => {
      const role = uniqueId(prefix);
      await admin.query(`CREATE ROLE ${role} LOGIN ${extra}`);
      roles.push(role);
      await admin.query(`GRANT CONNECT ON DATABASE ${db.name()} TO ${role}`);
      await admin.query(`GRANT USAGE ON SCHEMA public TO ${role}`);
      return role;
    };
    const ownerRole = await createRole('own');
    const appRole = await createRole('app');
    await admin.query(`
      CREATE TABLE customers (tenant_id text NOT NULL, id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text NOT NULL);
      CREATE TABLE invoices (tenant_id text NOT NULL, id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                             customer_id bigint NOT NULL, total numeric NOT NULL);
      ALTER TABLE customers OWNER TO ${ownerRole};
      ALTER TABLE invoices OWNER TO ${ownerRole};`);
    for (const sql of [
      ...tenantTableSql({ table: 'customers' }),
      ...tenantTableSql({
        table: 'invoices',
        foreignKeys: [{ columns: ['customer_id'], references: 'customers' }],
      }),
    ]) {
      await admin.query(sql);
    }
    await admin.query(`
      GRANT SELECT, INSERT, UPDATE, DELETE ON customers, invoices TO ${appRole};
      GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO ${appRole};`);
    const poolAs = (role: string, max: number) =>
      new pg.Pool({ connectionString: urlAs(role), max, pipeline });
    const app = poolAs(appRole, appPoolMax);
    app.on('error', () => undefined);
    state = { admin, app, pipeline, poolAs, appRole, ownerRole, urlAs, createRole };
  });
  afterAll(async () => {
    await state?.app.end();
    if (state) {
      for (const role of roles.reverse()) {
        await state.admin.query(`DROP OWNED BY ${role} CASCADE`).catch(() => undefined);
      }
      await state.admin.end();
    }
    // Roles cannot be dropped while the database still holds their objects: drop it first, then them.
    const admin = new pg.Client({ connectionString: withDatabase(db.url(), 'postgres') });
    await admin.connect();
    try {
      await admin.query(`DROP DATABASE IF EXISTS ${db.name()} WITH (FORCE)`);
      for (const role of roles) await admin.query(`DROP ROLE IF EXISTS ${role}`);
    } finally {
      await admin.end();
    }
  });
  return () => {
    if (!state) throw new Error('RLS database not set up');
    return state;
  };
}

/** The back office of the tests: an audited system scope (its events go to a throwaway MemoryAuditPort). */
export function asSystem<R>(fn: () => Promise<R> | R): Promise<R> {
  return runAsSystem(
    { actor: { id: 'test-ops', kind: 'service', roles: ['SUPER_ADMIN'] }, reason: 'test back office' },
    new MemoryAuditPort(),
    fn,
  );
}

/**
 * `service` with every method called inside {@link asSystem}: the back office of the tests (creating
 * tenants, plans, moving lifecycles), kept out of the way of what a test is about.
 */
export function backOffice<T extends object>(service: T): T {
  const wrapped: Record<PropertyKey, unknown> = {};
  for (const key of Reflect.ownKeys(service)) {
    const value = (service as Record<PropertyKey, unknown>)[key];
    wrapped[key] =
      typeof value === 'function' && key !== 'on'
        ? (...args: unknown[]) => asSystem(() => (value as (...a: unknown[]) => unknown).apply(service, args))
        : value;
  }
  return wrapped as T;
}

/** Run `fn` as a tenant admin of `tenantId`, as a request handler would after verifying credentials. */
export function asTenant<R>(tenantId: string, fn: () => R): R {
  return runAsTenant({ tenantId, actor: { id: 'test-user', roles: ['TENANT_ADMIN'] } }, fn);
}

/**
 * `uow.run(fn, options)` as application code calls it: inside the named tenant's context (the unit
 * resolves the tenant with `resolveTenantId`, so naming one outside a context is refused).
 */
export function runUnit<R>(
  uow: TenantUnitOfWork,
  fn: (client: PgUnitOfWorkClient) => Promise<R>,
  options?: TenantUnitOfWorkRunOptions,
): Promise<R> {
  const tenantId = options?.tenantId;
  return tenantId === undefined ? uow.run(fn, options) : asTenant(tenantId, () => uow.run(fn, options));
}
