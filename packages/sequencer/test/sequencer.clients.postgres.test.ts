import { runMigrations } from '@tenantry/core/postgres';
import { fromKysely } from '@tenantry/core/kysely';
import { hasBackend, skipLabel } from '@tenantry/testkit';
import { type OpenPgClient, PG_CLIENT_KINDS } from '@tenantry/testkit/pg-clients';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { defineSeries, type Series } from '../src/index.js';
import { createPostgresSequencer, sequencerMigrations } from '../src/postgres.js';
import { currentTenant, freshSeriesKey, tenantIt as it, useBackends } from './helpers.js';

const env = useBackends();
const codeOf = async (p: Promise<unknown>): Promise<string> => {
  try {
    await p;
    return 'ok';
  } catch (e) {
    return (e as { code?: string }).code ?? String(e);
  }
};
class Abort extends Error {}

/**
 * S4 through every client kind: the number is allocated by our executor on the library's transaction,
 * the document is written through the library's own handle; both commit together or roll back together.
 */
describe.skipIf(!hasBackend('postgres'))(
  `in-transaction allocation through each client kind${skipLabel('postgres')}`,
  () => {
    const seq = createPostgresSequencer({ lockTimeoutMs: 2_000 });
    const series = (): Series => defineSeries({ key: freshSeriesKey() });
    let admin: pg.Pool;

    beforeAll(async () => {
      admin = new pg.Pool({ connectionString: env.pgUrl(), max: 2 });
      admin.on('error', () => undefined);
      await runMigrations(admin, sequencerMigrations);
      await admin.query(`CREATE TABLE IF NOT EXISTS kdocs (tenant text, series text, period text, number bigint,
      UNIQUE (tenant, series, period, number))`);
    });
    afterAll(() => admin.end());

    const docs = async (s: Series): Promise<number[]> =>
      (
        await admin.query<{ number: string }>(
          'SELECT number FROM kdocs WHERE tenant = $1 AND series = $2 ORDER BY number',
          [currentTenant(), s.key],
        )
      ).rows.map((r) => Number(r.number));

    for (const kind of PG_CLIENT_KINDS) {
      describe(kind.name, () => {
        let client: OpenPgClient;
        beforeAll(() => {
          client = kind.open(env.pgUrl(), { max: 4 });
        });
        afterAll(() => client.close());

        /** Allocate through the adapter, insert the document through the library's own handle. */
        const issue = (s: Series, after?: 'throw' | 'duplicate') =>
          client.transaction(async (tx, handle) => {
            const n = await seq.next(s, { tx });
            const number = after === 'duplicate' ? 1 : n.number;
            await kind.nativeRows(
              handle,
              `INSERT INTO kdocs (tenant, series, period, number) VALUES ('${n.tenant}', '${n.series}', '${n.period}', ${number})`,
            );
            if (after === 'throw') throw new Abort();
            return n.number;
          });

        it('the allocation and the document commit together: 1, 2, 3, documents 1, 2, 3', async () => {
          const s = series();
          const got = [await issue(s), await issue(s), await issue(s)];
          expect(got).toEqual([1, 2, 3]);
          expect(await docs(s)).toEqual([1, 2, 3]);
          expect(await seq.lastCommitted(s, { db: client.pool })).toBe(3);
        });

        it('they roll back together: a throw after the insert, or a failing document insert, consumes no number', async () => {
          const s = series();
          expect(await issue(s)).toBe(1);
          await expect(issue(s, 'throw')).rejects.toBeInstanceOf(Abort);
          // The document write fails (duplicate number 1): the allocation of 2 goes with it.
          expect(await codeOf(issue(s, 'duplicate'))).not.toBe('ok');
          expect(await docs(s)).toEqual([1]);
          expect(await seq.lastCommitted(s, { db: client.pool })).toBe(1);
          expect(await issue(s)).toBe(2);
          expect(await docs(s)).toEqual([1, 2]);
        });

        it('concurrent transactions on one series stay gapless and in commit order', async () => {
          const s = series();
          const got = await Promise.all(
            Array.from({ length: 12 }, (_, i) => issue(s, i % 4 === 3 ? 'throw' : undefined).catch(() => 0)),
          );
          const committed = got.filter((n) => n > 0).sort((a, b) => a - b);
          expect(committed).toEqual(Array.from({ length: 9 }, (_, i) => i + 1));
          expect(await docs(s)).toEqual(committed);
        });

        it('withNumber on the adapter pool, plain and combining: failed writes consume nothing, the rest gapless', async () => {
          for (const combine of [undefined, { maxGroupSize: 8, maxWaitMs: 0 }]) {
            const s = series();
            const own = createPostgresSequencer({
              pool: client.pool,
              lockTimeoutMs: 2_000,
              ...(combine ? { combine } : {}),
            });
            const got = await Promise.all(
              Array.from({ length: 16 }, (_, i) =>
                own
                  .withNumber(s, {}, async ({ tx, tenant, series: key, period, number }) => {
                    await tx.query(
                      'INSERT INTO kdocs (tenant, series, period, number) VALUES ($1, $2, $3, $4)',
                      [tenant, key, period, number],
                    );
                    if (i % 5 === 4) throw new Abort();
                    return number;
                  })
                  .catch((e: unknown) => (e instanceof Abort ? 0 : Promise.reject(e))),
              ),
            );
            const committed = got.filter((n) => n > 0).sort((a, b) => a - b);
            expect(committed).toEqual(Array.from({ length: 13 }, (_, i) => i + 1));
            expect(await docs(s)).toEqual(committed);
          }
        });

        it('the pool itself (autocommit) is refused with SEQUENCER_NOT_IN_TRANSACTION', async () => {
          expect(await codeOf(seq.next(series(), { tx: client.pool as never }))).toBe(
            'SEQUENCER_NOT_IN_TRANSACTION',
          );
        });
      });
    }

    it('Kysely, as a Kysely user writes it: next() with fromKysely(trx) and a typed insert, one transaction', async () => {
      interface DB {
        kdocs: { tenant: string; series: string; period: string; number: number };
      }
      const db = new Kysely<DB>({
        dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: env.pgUrl(), max: 2 }) }),
      });
      try {
        const s = series();
        const write = (fail: boolean) =>
          db.transaction().execute(async (trx) => {
            const n = await seq.next(s, { tx: fromKysely(trx) });
            await trx
              .insertInto('kdocs')
              .values({ tenant: n.tenant, series: n.series, period: n.period, number: n.number })
              .execute();
            if (fail) throw new Abort();
            return n.number;
          });
        expect(await write(false)).toBe(1);
        await expect(write(true)).rejects.toBeInstanceOf(Abort);
        expect(await write(false)).toBe(2);
        expect(await docs(s)).toEqual([1, 2]);
      } finally {
        await db.destroy();
      }
    });
  },
);
