import { hasBackend, skipLabel, useTestDatabase } from '@tenantry/testkit';
import { type OpenPgClient, PG_CLIENT_KINDS } from '@tenantry/testkit/pg-clients';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PgExecutor } from '../src/index.js';

const db = useTestDatabase();

/**
 * The executor port's contract, the same through every client kind: what the PostgreSQL stores rely on
 * (values encoded as `pg` encodes them, rows typed as `pg` types them, `rowCount`, several statements in
 * one text, `pg`'s error fields, connections that stay checked out until released).
 */
describe.skipIf(!hasBackend('postgres'))(
  `the PostgreSQL executor port through each client kind${skipLabel('postgres')}`,
  () => {
    for (const kind of PG_CLIENT_KINDS) {
      describe(kind.name, () => {
        let client: OpenPgClient;
        const table = `port_${kind.name.replace(/[^a-z]/g, '_')}`;
        beforeAll(async () => {
          client = kind.open(db.url(), { max: 3 });
          await client.pool.query(
            `CREATE TABLE ${table} (id int PRIMARY KEY, j jsonb, at timestamptz, tags text[], stamps timestamptz[], docs jsonb[], n int8, b bytea)`,
          );
        });
        afterAll(() => client.close());

        it('encodes values as pg does: JSON text stays an object, Dates, arrays (text[], timestamptz[], jsonb[]), bytea', async () => {
          const at = new Date('2026-03-01T10:00:00.123Z');
          await client.pool.query(
            `INSERT INTO ${table} (id, j, at, tags, stamps, docs, n, b) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
            [
              1,
              JSON.stringify({ a: 1, s: 'x"y' }),
              at,
              ['a', 'b,c', 'd"e'],
              [at, at],
              ['{"k":1}', '[2]'],
              '9007199254740993',
              Buffer.from([0, 255]),
            ],
          );
          const { rows } = await client.pool.query<Record<string, unknown>>(
            `SELECT jsonb_typeof(j) AS jt, j, at, tags, stamps, docs[1] ->> 'k' AS k, n, b FROM ${table} WHERE id = 1`,
          );
          const r = rows[0] as Record<string, unknown>;
          expect(r.jt).toBe('object');
          expect(r.j).toEqual({ a: 1, s: 'x"y' });
          expect(r.at).toBeInstanceOf(Date);
          expect((r.at as Date).toISOString()).toBe(at.toISOString());
          expect(r.tags).toEqual(['a', 'b,c', 'd"e']);
          expect((r.stamps as Date[]).map((d) => new Date(d).toISOString())).toEqual([
            at.toISOString(),
            at.toISOString(),
          ]);
          expect(r.k).toBe('1');
          expect(r.n).toBe('9007199254740993'); // int8 as a string, as pg answers it
          expect([...(r.b as Uint8Array)]).toEqual([0, 255]);
        });

        it('answers rowCount for writes and reads, and runs several statements in one text', async () => {
          await client.pool.query(`INSERT INTO ${table} (id) VALUES (10), (11), (12)`);
          expect((await client.pool.query(`UPDATE ${table} SET n = 1 WHERE id >= 10`)).rowCount).toBe(3);
          expect((await client.pool.query(`SELECT id FROM ${table} WHERE id >= 10`)).rowCount).toBe(3);
          await client.pool.query(`DELETE FROM ${table} WHERE id = 10; DELETE FROM ${table} WHERE id = 11`);
          expect((await client.pool.query(`SELECT id FROM ${table} WHERE id >= 10`)).rows).toEqual([
            { id: 12 },
          ]);
        });

        it("fails with pg's error fields: SQLSTATE code and constraint name", async () => {
          const error = await client.pool.query(`INSERT INTO ${table} (id) VALUES (12)`).then(
            () => undefined,
            (e: { code?: string; constraint?: string }) => e,
          );
          expect(error?.code).toBe('23505');
          expect(error?.constraint).toBe(`${table}_pkey`);
        });

        it('connect() holds one connection until release(), so a transaction spans statements', async () => {
          const c = await client.pool.connect();
          try {
            const pid = async () => (await c.query<{ p: number }>('SELECT pg_backend_pid() AS p')).rows[0]?.p;
            await c.query('BEGIN');
            await c.query(`INSERT INTO ${table} (id) VALUES (20)`);
            expect(await pid()).toBe(await pid());
            const seen = await client.pool.query(`SELECT id FROM ${table} WHERE id = 20`);
            expect(seen.rows).toEqual([]); // not committed yet, invisible to another connection
            await c.query('ROLLBACK');
          } finally {
            c.release();
          }
          expect((await client.pool.query(`SELECT id FROM ${table} WHERE id = 20`)).rows).toEqual([]);
        });

        it("an executor on the library's transaction says 'T' and its statements commit or roll back with it", async () => {
          await client
            .transaction(async (tx: PgExecutor) => {
              expect(tx.getTransactionStatus?.()).toBe('T');
              await tx.query(`INSERT INTO ${table} (id) VALUES ($1)`, [30]);
              throw new Error('roll back');
            })
            .catch(() => undefined);
          await client.transaction((tx) => tx.query(`INSERT INTO ${table} (id) VALUES ($1)`, [31]));
          expect((await client.pool.query(`SELECT id FROM ${table} WHERE id IN (30, 31)`)).rows).toEqual([
            { id: 31 },
          ]);
        });
      });
    }
  },
);
