import { runMigrations, tenantTableSql } from '@tenantry/core/postgres';
import { uniqueId, withDatabase } from '@tenantry/testkit';
import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import { vaultMigrations } from '../src/postgres.js';

/** A test app's schema: users ← tasks ← comments, tenant tables with RLS and composite foreign keys. */
export const APP_SCHEMA = `
CREATE TABLE users (tenant_id text NOT NULL, id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text NOT NULL, email text);
CREATE TABLE tasks (tenant_id text NOT NULL, id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, user_id bigint NOT NULL,
  title text NOT NULL, done boolean NOT NULL DEFAULT false, due timestamptz, payload jsonb, data bytea,
  title_len integer GENERATED ALWAYS AS (length(title)) STORED);
CREATE TABLE comments (tenant_id text NOT NULL, id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, task_id bigint NOT NULL, body text NOT NULL);
`;

export interface AppDb {
  /** Superuser pool (setup and checksums: RLS hides nothing from it). */
  admin: pg.Pool;
  /** Pool of the application role (subject to RLS). */
  app: pg.Pool;
}

async function createAppSchema(admin: pg.Pool, owner: string, appRole: string): Promise<void> {
  await admin.query(APP_SCHEMA);
  for (const t of ['users', 'tasks', 'comments']) await admin.query(`ALTER TABLE ${t} OWNER TO ${owner}`);
  for (const sql of [
    ...tenantTableSql({ table: 'users' }),
    ...tenantTableSql({ table: 'tasks', foreignKeys: [{ columns: ['user_id'], references: 'users' }] }),
    ...tenantTableSql({ table: 'comments', foreignKeys: [{ columns: ['task_id'], references: 'tasks' }] }),
  ]) {
    await admin.query(sql);
  }
  await runMigrations(admin, vaultMigrations);
  await admin.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON users, tasks, comments, tenantry_vault_snapshots TO ${appRole};
    GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO ${appRole}`);
}

/**
 * Databases with the app schema, an owner role and an application role (no BYPASSRLS), per test file.
 * `url` is the server's; every database and role is dropped afterwards.
 */
export function useAppDatabases(serverUrl: () => string, count: number): () => AppDb[] {
  const dbs: AppDb[] = [];
  const names: string[] = [];
  const roles: string[] = [];
  beforeAll(async () => {
    const server = new pg.Client({ connectionString: serverUrl() });
    await server.connect();
    try {
      const owner = uniqueId('vown');
      const appRole = uniqueId('vapp');
      roles.push(owner, appRole);
      await server.query(`CREATE ROLE ${owner} LOGIN; CREATE ROLE ${appRole} LOGIN`);
      for (let i = 0; i < count; i++) {
        const name = uniqueId('vault_db');
        names.push(name);
        await server.query(`CREATE DATABASE ${name}`);
        const url = withDatabase(serverUrl(), name);
        const admin = new pg.Pool({ connectionString: url, max: 2 });
        admin.on('error', () => undefined);
        await admin.query(
          `GRANT CONNECT ON DATABASE ${name} TO ${appRole}; GRANT USAGE ON SCHEMA public TO ${appRole}`,
        );
        await createAppSchema(admin, owner, appRole);
        const u = new URL(url);
        u.username = appRole;
        const app = new pg.Pool({ connectionString: u.toString(), max: 4 });
        app.on('error', () => undefined);
        dbs.push({ admin, app });
      }
    } finally {
      await server.end();
    }
  }, 60_000);
  afterAll(async () => {
    for (const d of dbs) {
      await d.app.end();
      await d.admin.end();
    }
    const server = new pg.Client({ connectionString: serverUrl() });
    await server.connect();
    try {
      for (const n of names) await server.query(`DROP DATABASE IF EXISTS ${n} WITH (FORCE)`);
      for (const r of roles) await server.query(`DROP ROLE IF EXISTS ${r}`);
    } finally {
      await server.end();
    }
  });
  return () => dbs;
}

/** Fills a tenant: users, tasks (awkward text, json, bytea, NULLs), comments. Runs as the superuser. */
export async function seed(
  admin: pg.Pool,
  tenantId: string,
  users = 10,
  tasksPerUser = 5,
  commentsPerTask = 2,
): Promise<void> {
  const u = await admin.query<{ id: string }>(
    `INSERT INTO users (tenant_id, name, email) SELECT $1, 'user ' || g || E'\\t"tab"\\\\', CASE WHEN g % 3 = 0 THEN NULL ELSE 'u' || g || '@' || $1 || '.test' END
       FROM generate_series(1, $2::int) g RETURNING id`,
    [tenantId, users],
  );
  for (const { id } of u.rows) {
    await admin.query(
      `INSERT INTO tasks (tenant_id, user_id, title, done, due, payload, data)
       SELECT $1, $2, 'task ' || g || E' line\\nbreak ünïcödé', g % 2 = 0, now() + (g || ' days')::interval,
              jsonb_build_object('n', g, 'tags', jsonb_build_array('a', 'b')), decode(md5(g::text), 'hex')
         FROM generate_series(1, $3::int) g`,
      [tenantId, id, tasksPerUser],
    );
  }
  await admin.query(
    `INSERT INTO comments (tenant_id, task_id, body) SELECT t.tenant_id, t.id, 'comment ' || g || ' on ' || t.id
       FROM tasks t, generate_series(1, $2::int) g WHERE t.tenant_id = $1`,
    [tenantId, commentsPerTask],
  );
}

/** Checksum of a tenant's rows in every app table, as the superuser (RLS hides nothing). */
export async function checksums(admin: pg.Pool, tenantId: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const t of ['users', 'tasks', 'comments']) {
    const r = await admin.query<{ n: string; sum: string | null }>(
      `SELECT count(*) AS n, md5(string_agg(x::text, '|' ORDER BY x.id)) AS sum FROM ${t} x WHERE tenant_id = $1`,
      [tenantId],
    );
    out[t] = `${r.rows[0]?.n}:${r.rows[0]?.sum}`;
  }
  return out;
}
