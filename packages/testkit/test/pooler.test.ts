import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { directPgUrl, hasBackend, pgVia, requiredBackends, resolveBackend, skipLabel } from '../src/index.js';

describe('pgbouncer backend resolution', () => {
  it('reads PG_POOLER_URL first and knows pgbouncer in REQUIRE_BACKENDS', async () => {
    const saved = { url: process.env.PG_POOLER_URL, req: process.env.REQUIRE_BACKENDS };
    process.env.PG_POOLER_URL = 'postgres://u@example.invalid:1/postgres';
    process.env.REQUIRE_BACKENDS = 'postgres,pgbouncer';
    try {
      expect(await resolveBackend('pgbouncer')).toMatchObject({
        available: true,
        url: 'postgres://u@example.invalid:1/postgres',
        source: 'env',
      });
      expect([...requiredBackends()].sort()).toEqual(['pgbouncer', 'postgres']);
    } finally {
      for (const [k, v] of [
        ['PG_POOLER_URL', saved.url],
        ['REQUIRE_BACKENDS', saved.req],
      ] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });

  it('directPgUrl maps a pooled URL to the server, keeping database and user', () => {
    const saved = { pg: process.env.PG_URL, direct: process.env.PG_DIRECT_URL };
    process.env.PG_URL = 'postgres://postgres@127.0.0.1:6432/postgres';
    process.env.PG_DIRECT_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
    try {
      expect(directPgUrl('postgres://app@127.0.0.1:6432/tk_x')).toBe('postgres://app@127.0.0.1:5432/tk_x');
      expect(directPgUrl('postgres://app@db.invalid:5432/tk_x')).toBe('postgres://app@db.invalid:5432/tk_x');
      delete process.env.PG_DIRECT_URL;
      expect(directPgUrl('postgres://app@127.0.0.1:6432/tk_x')).toBe('postgres://app@127.0.0.1:6432/tk_x');
    } finally {
      for (const [k, v] of [
        ['PG_URL', saved.pg],
        ['PG_DIRECT_URL', saved.direct],
      ] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });

  describe.skipIf(!hasBackend('pgbouncer') || !hasBackend('postgres'))(
    `the pooler in front of the server${skipLabel('pgbouncer')}${skipLabel('postgres')}`,
    () => {
      it('runs in transaction mode: one client connection, several server sessions', async () => {
        const url = process.env.PG_POOLER_URL as string;
        const client = new pg.Client({ connectionString: url });
        await client.connect();
        try {
          // The BackendKeyData a pooler sends is its own: never the pid of the session that answers.
          const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
          expect((client as unknown as { processID: number }).processID).not.toBe(rows[0]?.pid);
          // Session state does not survive the transaction (the point of transaction mode).
          const admin = new pg.Client({ connectionString: url.replace(/\/[^/]*$/, '/pgbouncer') });
          await admin.connect();
          try {
            const config = await admin.query<{ key: string; value: string }>('SHOW CONFIG');
            expect(config.rows.find((r) => r.key === 'pool_mode')?.value).toBe('transaction');
          } finally {
            await admin.end();
          }
        } finally {
          await client.end();
        }
      });

      it.skipIf(pgVia() !== 'pgbouncer')(
        `PG_VIA=pgbouncer routes PG_URL through the pooler${pgVia() === 'pgbouncer' ? '' : ' [skipped: this run goes to PostgreSQL directly; .ci/pooler-tests runs it through PgBouncer]'}`,
        () => {
          expect(process.env.PG_URL).toBe(process.env.PG_POOLER_URL);
          expect(process.env.PG_DIRECT_URL).toBeTruthy();
          expect(directPgUrl(process.env.PG_URL as string)).toBe(process.env.PG_DIRECT_URL);
        },
      );
    },
  );
});
