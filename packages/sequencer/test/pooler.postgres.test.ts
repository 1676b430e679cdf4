// The sequencer behind a transaction-mode pooler (issue 19): the default sends no named statements
// (they belong to a server session, which PgBouncer < 1.21 hands to other clients), so it works behind
// PgBouncer as it is; the named-statement option, misused there, fails with a typed error naming it.
import { runMigrations } from '@tenantry/core/postgres';
import { backendStatus, hasBackend, skipLabel, withDatabase } from '@tenantry/testkit';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it as plainIt, onTestFinished } from 'vitest';
import { defineSeries } from '../src/index.js';
import { createPostgresSequencer, PostgresLockBackend, sequencerMigrations } from '../src/postgres.js';
import { currentTenant, freshKey, freshSeriesKey, tenantIt as it, useBackends } from './helpers.js';

const env = useBackends();

/** Run `fn` in a transaction on `client`, committed (or rolled back when it throws). */
async function inTx<R>(client: pg.ClientBase, fn: (c: pg.ClientBase) => Promise<R>): Promise<R> {
  await client.query('BEGIN');
  try {
    const r = await fn(client);
    await client.query('COMMIT');
    return r;
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw e;
  }
}

describe.skipIf(!hasBackend('postgres'))(`sequencer statement naming${skipLabel('postgres')}`, () => {
  let pool: pg.Pool;
  beforeAll(async () => {
    pool = new pg.Pool({ connectionString: env.pgUrl(), max: 2 });
    await runMigrations(pool, sequencerMigrations);
  });
  afterAll(() => pool?.end());

  it('the default names no statement (nothing of the session outlives the transaction)', async () => {
    const client = await pool.connect();
    const sent: unknown[] = [];
    const query = client.query.bind(client) as (...a: unknown[]) => Promise<unknown>;
    (client as unknown as { query: (...a: unknown[]) => Promise<unknown> }).query = (...a) => {
      sent.push(a[0]);
      return query(...a);
    };
    try {
      const seq = createPostgresSequencer();
      const s = defineSeries({ key: freshSeriesKey() });
      await inTx(client, (c) => seq.next(s, { tx: c }));
      await inTx(client, (c) => seq.nextBatch(s, 3, { tx: c }));
      const named = sent.filter((q) => typeof q === 'object' && q !== null && 'name' in q);
      expect(sent.length).toBeGreaterThanOrEqual(6); // BEGIN, the allocation(s), COMMIT, twice
      expect(named).toEqual([]);
      // The session holds no prepared statement of ours afterwards.
      const { rows } = await client.query<{ n: string }>(
        "SELECT count(*) AS n FROM pg_prepared_statements WHERE name LIKE 'tenantry_%'",
      );
      expect(Number(rows[0]?.n)).toBe(0);
    } finally {
      (client as unknown as { query: unknown }).query = query;
      client.release();
    }
  });

  it('namedStatements: true still works on a direct connection (opt-in fast path)', async () => {
    const direct = new pg.Client({ connectionString: env.pgDirectUrl() });
    await direct.connect();
    try {
      const seq = createPostgresSequencer({ namedStatements: true });
      const s = defineSeries({ key: freshSeriesKey() });
      expect((await inTx(direct, (c) => seq.next(s, { tx: c }))).number).toBe(1);
      expect((await inTx(direct, (c) => seq.next(s, { tx: c }))).number).toBe(2);
      const { rows } = await direct.query<{ n: string }>(
        "SELECT count(*) AS n FROM pg_prepared_statements WHERE name LIKE 'tenantry_seq_%'",
      );
      expect(Number(rows[0]?.n)).toBeGreaterThan(0);
    } finally {
      await direct.end();
    }
  });

  for (const pipeline of [false, true]) {
    it(`withNumber with namedStatements: true prepares its locking statement once per connection and stays gapless (${pipeline ? 'pg pipeline mode' : 'one reply at a time'})`, async () => {
      const direct = new pg.Pool({ connectionString: env.pgDirectUrl(), max: 1, pipeline });
      direct.on('error', () => undefined);
      try {
        const seq = createPostgresSequencer({ pool: direct, namedStatements: true });
        const s = defineSeries({ key: freshSeriesKey() });
        const got: number[] = [];
        for (let i = 0; i < 5; i++) {
          // The write hands back its statement unawaited: pipelined, COMMIT goes out right behind it.
          const r = await seq.withNumber(s, {}, (n) =>
            n.tx.query<{ n: string }>('SELECT $1::bigint AS n', [n.number]),
          );
          got.push(Number(r.rows[0]?.n));
        }
        expect(got).toEqual([1, 2, 3, 4, 5]);
        const { rows } = await direct.query<{ name: string }>(
          "SELECT name FROM pg_prepared_statements WHERE name LIKE 'tenantry_seq_wg_%' ORDER BY name",
        );
        // The first allocation creates the counter row (the upsert); the others take the update.
        expect(rows.map((r) => r.name)).toEqual(['tenantry_seq_wg_one_i', 'tenantry_seq_wg_one_u']);
      } finally {
        await direct.end();
      }
    });
  }
});

describe.skipIf(!hasBackend('postgres') || !hasBackend('pgbouncer'))(
  `sequencer through PgBouncer in transaction mode${skipLabel('postgres')}${skipLabel('pgbouncer')}`,
  () => {
    let pooled: pg.Pool;
    beforeAll(async () => {
      const status = backendStatus('pgbouncer');
      if (!status.available) throw new Error(status.reason);
      const admin = new pg.Pool({ connectionString: env.pgDirectUrl(), max: 1 });
      try {
        await runMigrations(admin, sequencerMigrations);
      } finally {
        await admin.end();
      }
      pooled = new pg.Pool({
        connectionString: withDatabase(status.url, new URL(env.pgUrl()).pathname.slice(1)),
        max: 8,
      });
      pooled.on('error', () => undefined);
    });
    afterAll(() => pooled?.end());

    it('the default stays gapless with 8 writers sharing the pooler’s server connections', async () => {
      const seq = createPostgresSequencer();
      const s = defineSeries({ key: freshSeriesKey() });
      const got: number[] = [];
      await Promise.all(
        Array.from({ length: 8 }, async () => {
          for (let i = 0; i < 10; i++) {
            const client = await pooled.connect();
            try {
              got.push((await inTx(client, (c) => seq.next(s, { tx: c }))).number);
            } finally {
              client.release();
            }
          }
        }),
      );
      expect(got.sort((a, b) => a - b)).toEqual(Array.from({ length: 80 }, (_, i) => i + 1));
      expect(currentTenant()).toBeTruthy();
    });

    it('namedStatements: true behind the pooler fails with a typed error that names the option', async () => {
      // Two client connections to the pooler, one after the other: the second is given the server
      // session where the first prepared its statements, and its own Parse clashes (42P05).
      const seq = createPostgresSequencer({ namedStatements: true });
      const s = defineSeries({ key: freshSeriesKey() });
      const a = await pooled.connect();
      const b = await pooled.connect();
      const failures: unknown[] = [];
      try {
        for (let i = 0; i < 10 && failures.length === 0; i++) {
          for (const c of [a, b]) {
            await inTx(c, (tx) => seq.next(s, { tx })).catch((e: unknown) => failures.push(e));
          }
        }
      } finally {
        a.release(true);
        b.release(true);
      }
      expect(failures.length).toBeGreaterThan(0);
      for (const e of failures) {
        expect(e).toMatchObject({ code: 'SEQUENCER_STORE_FAILED' });
        expect((e as Error).message).toMatch(/namedStatements: false/);
      }
    });
  },
);

/**
 * A held PostgreSQL lock lease keeps its connection checked out, idle in a transaction; when that
 * connection dies (a terminated backend directly, PgBouncer's `08P01 server conn crashed?` through the
 * pooler) the lease is lost, and the host does not crash on an unhandled 'error' event (vitest fails
 * the run on one).
 */
const leaseLoss = async (url: string, admin: pg.Pool): Promise<void> => {
  // application_name marks the lease's session (PgBouncer sets it on the server connection it links).
  const name = `lease-loss-${Date.now()}`;
  const pool = new pg.Pool({ connectionString: url, max: 2, application_name: name });
  const poolErrors: unknown[] = [];
  pool.on('error', (e) => poolErrors.push(e));
  try {
    const lock = new PostgresLockBackend({ pool });
    const key = freshKey();
    const lease = await lock.acquire(key, { ttlMs: 1_000, waitMs: 1_000 });
    onTestFinished(() => lease.release());
    expect(await lease.renew(1_000)).toBe(true);
    const { rows } = await admin.query<{ ok: boolean }>(
      `SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity
        WHERE datname = current_database() AND state = 'idle in transaction' AND application_name = $1`,
      [name],
    );
    expect(rows.map((r) => r.ok)).toEqual([true]);
    const end = Date.now() + 5_000;
    while ((await lease.renew(1_000)) && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    expect(await lease.renew(1_000)).toBe(false);
    await lease.release();
    // The lock is free again: the dead transaction ended with its session.
    const next = await lock.acquire(key, { ttlMs: 1_000, waitMs: 2_000 });
    expect(next.fence).toBeGreaterThan(lease.fence);
    await next.release();
    expect(poolErrors).toEqual([]);
  } finally {
    await pool.end();
  }
};

describe.skipIf(!hasBackend('postgres'))(
  `PostgreSQL lock lease on a dying connection${skipLabel('postgres')}`,
  () => {
    let admin: pg.Pool;
    beforeAll(async () => {
      admin = new pg.Pool({ connectionString: env.pgDirectUrl(), max: 1 });
      await runMigrations(admin, sequencerMigrations);
    });
    afterAll(() => admin?.end());

    plainIt('direct: a terminated backend loses the lease, no unhandled error', () =>
      leaseLoss(env.pgDirectUrl(), admin),
    );

    plainIt.skipIf(!hasBackend('pgbouncer'))(
      `through PgBouncer: 'server conn crashed?' loses the lease, no unhandled error${skipLabel('pgbouncer')}`,
      () => {
        const status = backendStatus('pgbouncer');
        if (!status.available) throw new Error(status.reason);
        return leaseLoss(withDatabase(status.url, new URL(env.pgDirectUrl()).pathname.slice(1)), admin);
      },
    );
  },
);
