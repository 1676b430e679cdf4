// insertWithNumber: the allocation and the document's INSERT in one statement (issue 20's one round
// trip for the case where the sequencer owns the transaction). The statement is its own transaction, so
// every guarantee is checked on what PostgreSQL holds afterwards: the documents' numbers and the counter.
import { runMigrations } from '@tenantry/core/postgres';
import { hasBackend, recordSocketWrites, skipLabel } from '@tenantry/testkit';
import { type AddressInfo, createServer } from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { defineSeries, type Series } from '../src/index.js';
import { createPostgresSequencer, sequencerMigrations } from '../src/postgres.js';
import {
  asSystem,
  codeOf,
  currentTenant,
  freshSeriesKey,
  freshTenant,
  tenantIt as it,
  useBackends,
  counterValue,
} from './helpers.js';

const env = useBackends();

/** Run `fn` while another connection holds the counter row of `s` (the current tenant's) locked. */
async function holdingCounter(s: Series, url: string, fn: () => Promise<void>): Promise<void> {
  const holder = new pg.Client({ connectionString: url });
  await holder.connect();
  try {
    await holder.query('BEGIN');
    await holder.query(
      'SELECT 1 FROM tenantry_sequencer_counters WHERE tenant = $1 AND series = $2 FOR UPDATE',
      [currentTenant(), s.key],
    );
    await fn();
    await holder.query('ROLLBACK');
  } finally {
    await holder.end();
  }
}

describe.skipIf(!hasBackend('postgres')).each([
  { pipeline: false, namedStatements: false, mode: 'unnamed statement' },
  { pipeline: false, namedStatements: true, mode: 'namedStatements' },
  { pipeline: true, namedStatements: false, mode: 'pg pipeline mode' },
])(`PostgreSQL insertWithNumber, $mode${skipLabel('postgres')}`, ({ pipeline, namedStatements }) => {
  let pool: pg.Pool;
  const series = (def: Partial<Parameters<typeof defineSeries>[0]> = {}): Series =>
    defineSeries({ key: freshSeriesKey(), ...def });
  const seq = () => createPostgresSequencer({ pool, namedStatements, lockTimeoutMs: 300 });
  const doc = (s: Series, values: Record<string, unknown> = {}) => ({
    table: 'ndocs',
    tenantColumn: 'tenant',
    numberColumn: 'number',
    formattedColumn: 'code',
    values: { series: s.key, period: '', total: '1.00', ...values },
    returning: ['id', 'total'],
  });
  const docs = async (s: Series) =>
    (
      await pool.query<{ number: string; code: string; total: string }>(
        'SELECT number, code, total FROM ndocs WHERE tenant = $1 AND series = $2 ORDER BY number',
        [currentTenant(), s.key],
      )
    ).rows;
  const counter = (s: Series) => counterValue(pool, s.key);

  beforeAll(async () => {
    // Named statements belong to a server session: through a transaction-mode pooler they would clash,
    // so that mode talks to the server directly (as the README says users must).
    pool = new pg.Pool({
      connectionString: namedStatements ? env.pgDirectUrl() : env.pgUrl(),
      max: 12,
      pipeline,
    });
    // As every application must: an idle connection the server or the pooler ends (a backend killed by
    // the lost-connection test below) is reported on the pool, and would crash the process unheard.
    pool.on('error', () => undefined);
    await runMigrations(pool, sequencerMigrations);
    await pool.query(`CREATE TABLE IF NOT EXISTS ndocs (id bigserial, tenant text NOT NULL, series text NOT NULL,
      period text NOT NULL, number bigint NOT NULL, code text, total numeric NOT NULL CHECK (total >= 0),
      issued date, PRIMARY KEY (tenant, series, period, number))`);
  });
  afterAll(async () => {
    await pool?.end();
  });

  it('numbers 1..N with no gap and no duplicate under 60 concurrent calls; the formatted column is the one returned', async () => {
    const s = series({ format: 'INV-{n:03}' });
    const got = await Promise.all(Array.from({ length: 60 }, () => seq().insertWithNumber(s, doc(s))));
    expect(got.map((g) => g.number).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 60 }, (_, i) => i + 1),
    );
    const stored = await docs(s);
    expect(stored.map((d) => Number(d.number))).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    for (const g of got) {
      expect(g.tenant).toBe(currentTenant());
      expect(g.formatted).toBe(`INV-${String(g.number).padStart(3, '0')}`);
      expect(stored[g.number - 1]?.code).toBe(g.formatted);
      expect(g.row).toEqual({ id: expect.any(String), total: '1.00' });
    }
    expect(await counter(s)).toBe('60');
  });

  it('a failed INSERT takes no number: SEQUENCER_INSERT_FAILED with the SQLSTATE and constraint, the next call gets the next number', async () => {
    const s = series();
    await seq().insertWithNumber(s, doc(s));
    let error: { code?: string; details?: Record<string, unknown> } = {};
    try {
      await seq().insertWithNumber(s, doc(s, { total: '-5' }));
    } catch (e) {
      error = e as typeof error;
    }
    expect(error.code).toBe('SEQUENCER_INSERT_FAILED');
    expect(error.details).toMatchObject({
      sqlstate: '23514',
      constraint: 'ndocs_total_check',
      table: 'ndocs',
    });
    expect(await codeOf(seq().insertWithNumber(s, doc(s, { total: 'not a number' })))).toBe(
      'SEQUENCER_INSERT_FAILED',
    );
    expect(await codeOf(seq().insertWithNumber(s, doc(s, { no_such_column: 1 })))).toBe(
      'SEQUENCER_INSERT_FAILED',
    );
    expect(await codeOf(seq().insertWithNumber(s, { ...doc(s), table: 'no_such_table' }))).toBe(
      'SEQUENCER_INSERT_FAILED',
    );
    expect(await counter(s)).toBe('1');
    expect((await seq().insertWithNumber(s, doc(s))).number).toBe(2);
    expect((await docs(s)).map((d) => Number(d.number))).toEqual([1, 2]);
  });

  it('a duplicate document (unique violation) takes no number either', async () => {
    const s = series();
    await pool.query("INSERT INTO ndocs (tenant, series, period, number, total) VALUES ($1, $2, '', 2, 0)", [
      currentTenant(),
      s.key,
    ]);
    expect((await seq().insertWithNumber(s, doc(s))).number).toBe(1);
    let error: { code?: string; details?: Record<string, unknown> } = {};
    try {
      await seq().insertWithNumber(s, doc(s));
    } catch (e) {
      error = e as typeof error;
    }
    expect(error).toMatchObject({ code: 'SEQUENCER_INSERT_FAILED', details: { sqlstate: '23505' } });
    expect(await counter(s)).toBe('1');
  });

  it('the first call creates the counter at the series start; a period comes from the issue date', async () => {
    const s = series({ start: 1000, period: 'yearly' });
    expect(await codeOf(seq().insertWithNumber(s, doc(s)))).toBe('SEQUENCER_ISSUE_DATE_REQUIRED');
    const a = await seq().insertWithNumber(s, doc(s, { period: '2026', issued: '2026-05-01' }), {
      issueDate: '2026-05-01',
    });
    const b = await seq().insertWithNumber(s, doc(s, { period: '2027', issued: '2027-01-02' }), {
      issueDate: '2027-01-02',
    });
    expect([a.number, a.period, b.number, b.period]).toEqual([1000, '2026', 1000, '2027']);
  });

  it('chronology: an earlier issue date is refused and takes nothing; a later one goes on', async () => {
    const s = series({ chronology: true, format: '{yyyy}/{n}' });
    const first = await seq().insertWithNumber(s, doc(s), { issueDate: '2026-03-10' });
    expect(first.formatted).toBe('2026/1');
    expect(await codeOf(seq().insertWithNumber(s, doc(s), { issueDate: '2026-03-09' }))).toBe(
      'SEQUENCER_CHRONOLOGY_VIOLATION',
    );
    expect(await counter(s)).toBe('1');
    expect((await seq().insertWithNumber(s, doc(s), { issueDate: '2026-03-10' })).number).toBe(2);
  });

  it('the formatted number is never cut: a number longer than the padding keeps all its digits', async () => {
    const s = series({ start: 99, format: '{prefix}{n:02}-X', prefix: 'P' });
    const a = await seq().insertWithNumber(s, doc(s));
    const b = await seq().insertWithNumber(s, doc(s));
    expect([a.formatted, b.formatted]).toEqual(['P99-X', 'P100-X']);
    expect((await docs(s)).map((d) => d.code)).toEqual(['P99-X', 'P100-X']);
  });

  it('an exhausted series takes no number past Number.MAX_SAFE_INTEGER: SEQUENCER_EXHAUSTED, nothing inserted', async () => {
    const s = series({ start: Number.MAX_SAFE_INTEGER });
    expect((await seq().insertWithNumber(s, doc(s))).number).toBe(Number.MAX_SAFE_INTEGER);
    expect(await codeOf(seq().insertWithNumber(s, doc(s)))).toBe('SEQUENCER_EXHAUSTED');
    expect((await docs(s)).length).toBe(1);
    expect(await counter(s)).toBe(String(Number.MAX_SAFE_INTEGER));
  });

  it('waits for a counter row held by another transaction no longer than lockTimeoutMs: SEQUENCER_LOCK_TIMEOUT', async () => {
    const s = series();
    await seq().insertWithNumber(s, doc(s));
    await holdingCounter(s, env.pgUrl(), async () => {
      const t0 = performance.now();
      expect(await codeOf(seq().insertWithNumber(s, doc(s)))).toBe('SEQUENCER_LOCK_TIMEOUT');
      expect(performance.now() - t0).toBeLessThan(3000);
    });
    expect((await seq().insertWithNumber(s, doc(s))).number).toBe(2);
  });

  it('the tenant is the context’s: the tenant column gets it, another tenant is refused, tenants count apart', async () => {
    const s = series();
    const mine = await seq().insertWithNumber(s, doc(s));
    expect(await codeOf(seq().insertWithNumber(s, doc(s), { tenantId: freshTenant() }))).toBe(
      'TENANT_CONTEXT_CONFLICT',
    );
    const other = freshTenant();
    const theirs = await asSystem(() => seq().insertWithNumber(s, doc(s), { tenantId: other }));
    expect([mine.number, theirs.number, theirs.tenant]).toEqual([1, 1, other]);
    expect(await docs(s)).toHaveLength(1);
  });

  it('refuses malformed input with VALIDATION_FAILED before anything is sent', async () => {
    const s = series();
    const bad: unknown[] = [
      undefined,
      null,
      'ndocs',
      { ...doc(s), table: 'ndocs; DROP TABLE ndocs' },
      { ...doc(s), table: 'a.b.c' },
      { ...doc(s), numberColumn: 'number"' },
      { ...doc(s), formattedColumn: 'number' },
      { ...doc(s), values: { 'total) VALUES (1); --': 1 } },
      { ...doc(s), values: { number: 5 } },
      { ...doc(s), returning: ['*'] },
      { ...doc(s), extra: true },
      new Proxy(
        {},
        {
          get() {
            throw new Error('hostile');
          },
          ownKeys() {
            throw new Error('hostile');
          },
        },
      ),
    ];
    for (const b of bad) {
      expect(await codeOf(seq().insertWithNumber(s, b as never))).toBe('VALIDATION_FAILED');
    }
    expect(await codeOf(createPostgresSequencer().insertWithNumber(s, doc(s)))).toBe('VALIDATION_FAILED');
    expect(await codeOf(seq().insertWithNumber('x' as never, doc(s)))).toBe('VALIDATION_FAILED');
    expect(await counter(s)).toBeUndefined();
    expect(await docs(s)).toHaveLength(0);
  });

  it('runs on the db given in the options (a checked-out client), and table names may be schema-qualified', async () => {
    const s = series();
    const client = await pool.connect();
    try {
      const a = await createPostgresSequencer({ namedStatements }).insertWithNumber(
        s,
        { ...doc(s), table: 'public.ndocs' },
        { db: client },
      );
      expect(a.number).toBe(1);
    } finally {
      client.release();
    }
    expect(await docs(s)).toHaveLength(1);
  });

  // Found by an attack on the first version (each failed before the fix).
  it('a BEFORE trigger that skips the row, or a DO INSTEAD rule, takes no number: SEQUENCER_INSERT_FAILED', async () => {
    const s = series();
    await pool.query(`CREATE TABLE IF NOT EXISTS skipdocs (tenant text, number bigint, note text);
      CREATE OR REPLACE FUNCTION skipdocs_skip() RETURNS trigger LANGUAGE plpgsql AS $f$
        BEGIN IF NEW.note = 'skip' THEN RETURN NULL; END IF; IF NEW.note = 'raise' THEN RAISE EXCEPTION 'no'; END IF;
        IF NEW.note = 'renumber' THEN NEW.number := NEW.number + 1000; END IF; RETURN NEW; END $f$;
      DROP TRIGGER IF EXISTS skipdocs_skip ON skipdocs;
      CREATE TRIGGER skipdocs_skip BEFORE INSERT ON skipdocs FOR EACH ROW EXECUTE FUNCTION skipdocs_skip();`);
    const skip = (note: string) => ({
      table: 'skipdocs',
      tenantColumn: 'tenant',
      numberColumn: 'number',
      values: { note },
    });
    expect((await seq().insertWithNumber(s, skip('ok'))).number).toBe(1);
    let error: { code?: string; details?: Record<string, unknown> } = {};
    try {
      await seq().insertWithNumber(s, skip('skip'));
    } catch (e) {
      error = e as typeof error;
    }
    expect(error).toMatchObject({ code: 'SEQUENCER_INSERT_FAILED', details: { reason: 'NO_ROW_INSERTED' } });
    expect(await codeOf(seq().insertWithNumber(s, skip('raise')))).toBe('SEQUENCER_INSERT_FAILED');
    expect(await counter(s)).toBe('1');
    // A trigger that changes the row's number: the call reports the counter's number, which the
    // formatted column (computed from the counter) matches.
    const renumbered = await seq().insertWithNumber(s, skip('renumber'));
    expect(renumbered.number).toBe(2);
    expect((await seq().insertWithNumber(s, skip('ok'))).number).toBe(3);

    await pool.query(`CREATE TABLE IF NOT EXISTS ruledocs (tenant text, number bigint);
      CREATE OR REPLACE RULE ruledocs_nothing AS ON INSERT TO ruledocs DO INSTEAD NOTHING;`);
    const r = series();
    expect(
      await codeOf(
        seq().insertWithNumber(r, { table: 'ruledocs', tenantColumn: 'tenant', numberColumn: 'number' }),
      ),
    ).toBe('SEQUENCER_INSERT_FAILED');
    // No number taken: no counter row, or one with none issued.
    expect([undefined, null]).toContain(await counter(r));
  });

  it('reads each input once: a getter or an iterator cannot swap a checked name for SQL', async () => {
    const s = series();
    let reads = 0;
    const returning = ['id'];
    (returning as unknown as { [Symbol.iterator]: () => Iterator<string> })[Symbol.iterator] = function* () {
      reads++;
      yield reads === 1 ? 'id' : 'id", (SELECT 1) AS "leak';
    };
    const r = await seq().insertWithNumber(s, { ...doc(s), returning });
    expect(Object.keys(r.row)).toEqual(['id']);
    let tableReads = 0;
    const sneaky = {
      ...doc(s),
      get table() {
        tableReads++;
        return tableReads === 1 ? 'ndocs' : 'ndocs (tenant) VALUES (1); --';
      },
    };
    const code = await codeOf(seq().insertWithNumber(s, sneaky as never));
    expect(['ok', 'VALIDATION_FAILED']).toContain(code);
    expect((await docs(s)).length).toBe(code === 'ok' ? 2 : 1);
  });

  it('callers racing on the first number of a chronological series (a new period) all get numbers', async () => {
    const s = series({ chronology: true, period: 'monthly' });
    const got = await Promise.all(
      Array.from({ length: 8 }, () =>
        seq().insertWithNumber(s, doc(s, { period: '2026-04' }), { issueDate: '2026-04-02' }),
      ),
    );
    expect(got.map((g) => g.number).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('creating the counter row waits no longer than lockTimeoutMs for another transaction creating it', async () => {
    const s = series();
    const holder = new pg.Client({ connectionString: env.pgUrl() });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query(
        "INSERT INTO tenantry_sequencer_counters (tenant, series, period, last_value) VALUES ($1, $2, '', NULL)",
        [currentTenant(), s.key],
      );
      const t0 = performance.now();
      expect(await codeOf(seq().insertWithNumber(s, doc(s)))).toBe('SEQUENCER_LOCK_TIMEOUT');
      expect(performance.now() - t0).toBeLessThan(3000);
      await holder.query('ROLLBACK');
    } finally {
      await holder.end();
    }
    expect((await seq().insertWithNumber(s, doc(s))).number).toBe(1);
  });

  it('refuses what would confuse the result or be sent as text: reserved returning names, __proto__, symbols, functions', async () => {
    const s = series();
    for (const bad of [
      { ...doc(s), returning: ['tenantry_seq_number'] },
      { ...doc(s), values: JSON.parse('{"__proto__": "x"}') },
      { ...doc(s), values: { total: Symbol('x') } },
      { ...doc(s), values: { total: () => 1 } },
    ]) {
      expect(await codeOf(seq().insertWithNumber(s, bad as never))).toBe('VALIDATION_FAILED');
    }
    await pool.query('ALTER TABLE ndocs ADD COLUMN IF NOT EXISTS meta jsonb');
    // A value whose toJSON throws: pg stops before sending; a typed error, nothing consumed.
    const throwing = {
      toJSON: () => {
        throw new Error('no');
      },
    };
    expect(await codeOf(seq().insertWithNumber(s, doc(s, { meta: throwing })))).toBe(
      'SEQUENCER_STORE_FAILED',
    );
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    await pool.query('ALTER TABLE ndocs ADD COLUMN IF NOT EXISTS meta jsonb');
    expect(await codeOf(seq().insertWithNumber(s, doc(s, { meta: circular })))).toBe('VALIDATION_FAILED');
    const duck = { ...s, formatParts: [{ kind: 'literal', text: 'x' }] };
    expect(await codeOf(seq().insertWithNumber(duck as never, doc(s)))).toBe('VALIDATION_FAILED');
    expect(await counter(s)).toBeUndefined();
    // An undefined value leaves the column out: it gets its default.
    await pool.query('ALTER TABLE ndocs ALTER COLUMN total SET DEFAULT 7');
    try {
      const r = await seq().insertWithNumber(s, doc(s, { total: undefined }));
      expect(r.row).toMatchObject({ total: '7' });
    } finally {
      await pool.query('ALTER TABLE ndocs ALTER COLUMN total DROP DEFAULT');
    }
  });

  it("a document table whose name merely starts like the counter table is the document's failure, not SEQUENCER_NOT_MIGRATED", async () => {
    const s = series();
    expect(
      await codeOf(seq().insertWithNumber(s, { ...doc(s), table: 'tenantry_sequencer_counters_archive' })),
    ).toBe('SEQUENCER_INSERT_FAILED');
  });

  it('a connection lost while the statement runs is SEQUENCER_COMMIT_UNKNOWN (it may have committed)', async () => {
    const s = series();
    await seq().insertWithNumber(s, doc(s));
    const admin = new pg.Client({ connectionString: env.pgDirectUrl() });
    await admin.connect();
    try {
      await holdingCounter(s, env.pgDirectUrl(), async () => {
        const waiting = codeOf(
          createPostgresSequencer({ pool, namedStatements, lockTimeoutMs: null }).insertWithNumber(s, doc(s)),
        );
        let pid: number | undefined;
        for (let i = 0; i < 100 && pid === undefined; i++) {
          const { rows } = await admin.query<{ pid: number }>(
            "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'WITH n AS (UPDATE tenantry_sequencer_counters%'",
          );
          pid = rows[0]?.pid;
          if (pid === undefined) await new Promise((r) => setTimeout(r, 20));
        }
        expect(pid).toBeDefined();
        await admin.query('SELECT pg_terminate_backend($1)', [pid]);
        expect(await waiting).toBe('SEQUENCER_COMMIT_UNKNOWN');
      });
    } finally {
      await admin.end();
    }
  });

  it('costs one statement and one socket write once the counter exists', async () => {
    const s = series();
    await seq().insertWithNumber(s, doc(s));
    const client = await pool.connect();
    try {
      const sent: string[] = [];
      const query = client.query.bind(client) as (...a: unknown[]) => unknown;
      (client as unknown as { query: unknown }).query = (...a: unknown[]) => {
        sent.push(typeof a[0] === 'string' ? a[0] : String((a[0] as { text?: string }).text));
        return query(...a);
      };
      const writes = recordSocketWrites();
      try {
        await createPostgresSequencer({ namedStatements }).insertWithNumber(s, doc(s), { db: client });
      } finally {
        writes.restore();
      }
      expect(sent).toHaveLength(1);
      expect(sent[0]).toMatch(/^WITH n AS \(UPDATE tenantry_sequencer_counters/);
      expect(writes.writes.length).toBe(1);
    } finally {
      client.release();
    }
  });
});

describe.skipIf(!hasBackend('postgres'))(
  `PostgreSQL insertWithNumber without the migration${skipLabel('postgres')}`,
  () => {
    it('SEQUENCER_NOT_MIGRATED when the counter table is missing (and the document table exists)', async () => {
      // A session-level search_path: directly, not through a transaction-mode pooler.
      const pool = new pg.Pool({ connectionString: env.pgDirectUrl(), max: 1 });
      try {
        await pool.query(
          'CREATE SCHEMA IF NOT EXISTS unmigrated; CREATE TABLE IF NOT EXISTS unmigrated.d (n bigint)',
        );
        const s = defineSeries({ key: freshSeriesKey() });
        const client = await pool.connect();
        try {
          await client.query('SET search_path TO unmigrated');
          const code = await codeOf(
            createPostgresSequencer().insertWithNumber(s, { table: 'd', numberColumn: 'n' }, { db: client }),
          );
          expect(code).toBe('SEQUENCER_NOT_MIGRATED');
        } finally {
          await client.query('RESET search_path');
          client.release();
        }
      } finally {
        await pool.end();
      }
    });
  },
);

describe.skipIf(!hasBackend('postgres'))(
  `PostgreSQL insertWithNumber, sessions and connections${skipLabel('postgres')}`,
  () => {
    const doc = { table: 'sdocs', tenantColumn: 'tenant', numberColumn: 'number' };
    beforeAll(async () => {
      const pool = new pg.Pool({ connectionString: env.pgDirectUrl(), max: 1 });
      try {
        await runMigrations(pool, sequencerMigrations);
        await pool.query('CREATE TABLE IF NOT EXISTS sdocs (tenant text, number bigint NOT NULL)');
      } finally {
        await pool.end();
      }
    });

    it('a pool that cannot connect is SEQUENCER_STORE_UNAVAILABLE (nothing sent: retry), refused or cut at once', async () => {
      const s = defineSeries({ key: freshSeriesKey() });
      const refused = new pg.Pool({ connectionString: 'postgres://postgres@127.0.0.1:1/none', max: 1 });
      const cutting = createServer((socket) => socket.destroy());
      await new Promise<void>((r) => cutting.listen(0, '127.0.0.1', () => r()));
      const cut = new pg.Pool({
        connectionString: `postgres://postgres@127.0.0.1:${(cutting.address() as AddressInfo).port}/none`,
        max: 1,
      });
      try {
        for (const pool of [refused, cut]) {
          pool.on('error', () => undefined);
          expect(await codeOf(createPostgresSequencer({ pool }).insertWithNumber(s, doc))).toBe(
            'SEQUENCER_STORE_UNAVAILABLE',
          );
        }
      } finally {
        await refused.end();
        await cut.end();
        cutting.close();
      }
    });

    it('an error the checked-out connection emits while the statement runs does not crash the host; the connection is destroyed', async () => {
      const s = defineSeries({ key: freshSeriesKey() });
      const pool = new pg.Pool({ connectionString: env.pgDirectUrl(), max: 1 });
      let connection: pg.PoolClient | undefined;
      pool.on('acquire', (c) => {
        connection = c;
      });
      const holder = new pg.Client({ connectionString: env.pgDirectUrl() });
      await holder.connect();
      try {
        const seq = createPostgresSequencer({ pool, lockTimeoutMs: null });
        expect((await seq.insertWithNumber(s, doc)).number).toBe(1);
        await holder.query('BEGIN');
        await holder.query(
          'SELECT 1 FROM tenantry_sequencer_counters WHERE tenant = $1 AND series = $2 FOR UPDATE',
          [currentTenant(), s.key],
        );
        const waiting = codeOf(seq.insertWithNumber(s, doc));
        await new Promise((r) => setTimeout(r, 100));
        expect(() => connection?.emit('error', new Error('the connection broke'))).not.toThrow();
        await holder.query('ROLLBACK');
        expect(await waiting).toBe('ok');
        expect(pool.totalCount).toBe(0);
      } finally {
        await holder.end();
        await pool.end();
      }
    });

    it('a read-only session is the store’s failure (SEQUENCER_STORE_FAILED), not the document’s', async () => {
      const s = defineSeries({ key: freshSeriesKey() });
      // A session setting: on the server directly.
      const pool = new pg.Pool({
        connectionString: env.pgDirectUrl(),
        max: 1,
        options: '-c default_transaction_read_only=on',
      });
      try {
        expect(await codeOf(createPostgresSequencer({ pool }).insertWithNumber(s, doc))).toBe(
          'SEQUENCER_STORE_FAILED',
        );
      } finally {
        await pool.end();
      }
    });

    it('chronology holds under any DateStyle of the session (insertWithNumber and withNumber combining)', async () => {
      const s = defineSeries({ key: freshSeriesKey(), chronology: true });
      const pool = new pg.Pool({
        connectionString: env.pgDirectUrl(),
        max: 4,
        options: '-c DateStyle=SQL,DMY',
      });
      try {
        const seq = createPostgresSequencer({ pool, combine: { maxGroupSize: 32, maxWaitMs: 5 } });
        expect((await seq.insertWithNumber(s, doc, { issueDate: '2026-03-20' })).number).toBe(1);
        expect(await codeOf(seq.insertWithNumber(s, doc, { issueDate: '2026-03-05' }))).toBe(
          'SEQUENCER_CHRONOLOGY_VIOLATION',
        );
        const combined = await Promise.all(
          Array.from({ length: 6 }, () =>
            codeOf(
              seq.withNumber(s, { issueDate: '2026-03-05' }, (n) =>
                n.tx.query('INSERT INTO sdocs (tenant, number) VALUES ($1, $2)', [n.tenant, n.number]),
              ),
            ),
          ),
        );
        expect(combined).toEqual(Array(6).fill('SEQUENCER_CHRONOLOGY_VIOLATION'));
        expect(await seq.lastCommitted(s, { db: pool, issueDate: '2026-03-20' })).toBe(1);
      } finally {
        await pool.end();
      }
    });

    it('names a prepared statement by a digest of its text (two copies of the module agree), refuses a column returned twice', async () => {
      const s = defineSeries({ key: freshSeriesKey() });
      const pool = new pg.Pool({ connectionString: env.pgDirectUrl(), max: 1 });
      try {
        const seq = createPostgresSequencer({ pool, namedStatements: true });
        await seq.insertWithNumber(s, { ...doc, returning: ['tenant'] });
        const { rows } = await pool.query<{ name: string }>(
          "SELECT name FROM pg_prepared_statements WHERE name LIKE 'tenantry_seq_ins_%'",
        );
        expect(rows.length).toBeGreaterThan(0);
        for (const r of rows) expect(r.name).toMatch(/^tenantry_seq_ins_[0-9a-f]{32}$/);
        expect(await codeOf(seq.insertWithNumber(s, { ...doc, returning: ['tenant', 'tenant'] }))).toBe(
          'VALIDATION_FAILED',
        );
      } finally {
        await pool.end();
      }
    });
  },
);

describe.skipIf(!hasBackend('postgres'))(
  `PostgreSQL insertWithNumber, named statements past the cache bound${skipLabel('postgres')}`,
  () => {
    it('past 1,000 statement shapes a new shape runs unnamed: no prepared statement piles up per call', async () => {
      // Named statements belong to a session: on the server directly, one connection.
      const pool = new pg.Pool({ connectionString: env.pgDirectUrl(), max: 1 });
      try {
        await runMigrations(pool, sequencerMigrations);
        const cols = Array.from({ length: 11 }, (_, i) => `c${i}`);
        await pool.query(
          `CREATE TABLE IF NOT EXISTS shapes (tenant text, number bigint NOT NULL, ${cols.map((c) => `${c} text`).join(', ')})`,
        );
        const seq = createPostgresSequencer({ pool, namedStatements: true });
        const s = defineSeries({ key: freshSeriesKey() });
        const shape = (mask: number) => ({
          table: 'shapes',
          numberColumn: 'number',
          values: Object.fromEntries(cols.filter((_, i) => mask & (1 << i)).map((c) => [c, 'v'])),
        });
        // 1,100 distinct shapes (subsets of the columns) fill the cache whatever the earlier tests left.
        for (let mask = 0; mask < 1100; mask++) await seq.insertWithNumber(s, shape(mask));
        const prepared = async () =>
          Number(
            (
              await pool.query<{ n: string }>(
                "SELECT count(*) AS n FROM pg_prepared_statements WHERE name LIKE 'tenantry_seq_ins_%'",
              )
            ).rows[0]?.n,
          );
        const before = await prepared();
        for (let i = 0; i < 5; i++) await seq.insertWithNumber(s, shape(2047));
        expect(await prepared()).toBe(before);
        expect(await seq.lastCommitted(s, { db: pool })).toBe(1105);
      } finally {
        await pool.end();
      }
    });
  },
);
