import { ManualClock } from '@tenantry/core';
import { hasBackend, recordSocketWrites, skipLabel, useTestDatabase } from '@tenantry/testkit';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuditLog, eventIndexOf, generateCheckpointKeys, hashEvent } from '../src/index.js';
import { PostgresAuditSink } from '../src/postgres.js';
import { preparedEvents } from '../src/testing/audit-sink-suite.js';
import { asTenant, inTenant, migrateWithAppRole } from './helpers.js';

const db = useTestDatabase();

describe.skipIf(!hasBackend('postgres'))(`PostgreSQL audit table${skipLabel('postgres')}`, () => {
  let owner: pg.Pool;
  let app: pg.Pool;
  let dropRole: () => Promise<void>;
  const keys = generateCheckpointKeys();

  beforeAll(async () => {
    const m = await migrateWithAppRole(db.url());
    dropRole = m.dropRole;
    owner = new pg.Pool({ connectionString: db.url(), max: 2 });
    app = new pg.Pool({ connectionString: m.appUrl, max: 4 });
  });
  afterAll(async () => {
    await app?.end();
    await owner?.end();
    await dropRole?.();
  });

  const seed = async (tenantId: string, n: number, clock?: ManualClock) => {
    const log = createAuditLog({
      sink: new PostgresAuditSink({ pool: app, clock }),
      clock,
      signingKey: keys.secretKey,
      publicKeys: [keys.publicKey],
    });
    await asTenant(tenantId, () =>
      Promise.all(
        Array.from({ length: n }, (_, i) =>
          log.record({
            tenantId,
            actor: { id: `u${i}` },
            action: 'invoice.created',
            targets: [{ type: 'invoice', id: String(i) }],
            outcome: 'success',
          }),
        ),
      ),
    );
    return log;
  };

  it('refuses UPDATE, DELETE and TRUNCATE for the application role (parent table and partitions)', async () => {
    await seed('immutable', 3);
    const partition = (
      await owner.query<{ p: string }>(
        `SELECT inhrelid::regclass::text AS p FROM pg_inherits WHERE inhparent = 'tenantry_audit_events'::regclass LIMIT 1`,
      )
    ).rows[0]!.p;
    for (const sql of [
      `UPDATE tenantry_audit_events SET body = body WHERE tenant_id = 'immutable'`,
      `DELETE FROM tenantry_audit_events WHERE tenant_id = 'immutable'`,
      'TRUNCATE tenantry_audit_events',
      `UPDATE tenantry_audit_checkpoints SET hash = hash`,
      `DELETE FROM tenantry_audit_checkpoints`,
      'TRUNCATE tenantry_audit_checkpoints',
      `UPDATE ${partition} SET body = body`,
      `DELETE FROM ${partition}`,
      `TRUNCATE ${partition}`,
    ]) {
      await expect(app.query(sql), sql).rejects.toMatchObject({ code: '42501' });
    }
    expect(
      (await app.query(`SELECT count(*)::int AS n FROM tenantry_audit_events WHERE tenant_id = 'immutable'`))
        .rows[0].n,
    ).toBe(3);
  });

  it('refuses UPDATE, DELETE and TRUNCATE even for the owner, through the triggers', async () => {
    const partition = (
      await owner.query<{ p: string }>(
        `SELECT inhrelid::regclass::text AS p FROM pg_inherits WHERE inhparent = 'tenantry_audit_events'::regclass LIMIT 1`,
      )
    ).rows[0]!.p;
    for (const sql of [
      `UPDATE tenantry_audit_events SET body = body`,
      `DELETE FROM tenantry_audit_events`,
      'TRUNCATE tenantry_audit_events',
      `TRUNCATE ${partition}`,
      `UPDATE ${partition} SET body = body`,
      `DELETE FROM ${partition}`,
    ]) {
      await expect(owner.query(sql), sql).rejects.toThrow(/append-only/);
    }
  });

  it('an operator who bypasses the triggers is caught by verify, which names the event', async () => {
    const log = await seed('tampered', 10);
    expect(await inTenant('tampered', log).verify('tampered')).toMatchObject({ ok: true, checked: 10 });
    const c = await owner.connect();
    try {
      await c.query('BEGIN');
      await c.query(`SET LOCAL session_replication_role = replica`); // superuser only: triggers off
      await c.query(
        `UPDATE tenantry_audit_events SET body = replace(body, '"outcome":"success"', '"outcome":"denied"') WHERE tenant_id = 'tampered' AND seq = 4`,
      );
      await c.query('COMMIT');
    } finally {
      c.release();
    }
    expect(await inTenant('tampered', log).verify('tampered')).toMatchObject({
      ok: false,
      firstBadSeq: 4,
      kind: 'modified',
    });
    // The nightly checkpoint job refuses to sign the edited chain, and stores nothing.
    const refused = await inTenant('tampered', log)
      .checkpoint('tampered')
      .catch((e: { code?: string; details?: unknown }) => e);
    expect(refused).toMatchObject({
      code: 'AUDIT_CHAIN_BROKEN',
      details: { chain: 'tampered', firstBadSeq: 4, kind: 'modified' },
    });
    const stored = await owner.query(
      `SELECT count(*)::int AS n FROM tenantry_audit_checkpoints WHERE chain = 'tampered'`,
    );
    expect(stored.rows[0]).toEqual({ n: 0 });
    // Query results are decoded from the hashed text (the record), never from the index columns.
    const page = await inTenant('tampered', log).query({
      tenantId: 'tampered',
      target: { type: 'invoice' },
      limit: 10,
    });
    expect(page.events.find((e) => e.seq === 4)?.outcome).toBe('denied');
    const c2 = await owner.connect();
    try {
      await c2.query('BEGIN');
      await c2.query(`SET LOCAL session_replication_role = replica`);
      await c2.query(`DELETE FROM tenantry_audit_events WHERE tenant_id = 'tampered' AND seq = 2`);
      await c2.query('COMMIT');
    } finally {
      c2.release();
    }
    expect(await inTenant('tampered', log).verify('tampered')).toMatchObject({
      ok: false,
      firstBadSeq: 2,
      kind: 'missing',
    });
  });

  it('creates the monthly partition on the first write of a month with no partition yet', async () => {
    const clock = new ManualClock('2031-07-15T10:00:00Z');
    const log = await seed('future', 2, clock);
    const parts = (
      await owner.query<{ p: string }>(
        `SELECT inhrelid::regclass::text AS p FROM pg_inherits WHERE inhparent = 'tenantry_audit_events'::regclass ORDER BY 1`,
      )
    ).rows.map((r) => r.p);
    expect(parts).toContain('tenantry_audit_events_203107');
    expect(parts).toContain('tenantry_audit_events_203108');
    const idx = await owner.query(
      `SELECT indexdef FROM pg_indexes WHERE tablename = 'tenantry_audit_events_203107' AND indexdef LIKE 'CREATE UNIQUE%'`,
    );
    expect(idx.rows[0].indexdef).toMatch(/\(tenant_id, seq\)/);
    expect(await inTenant('future', log).verify('future')).toMatchObject({ ok: true, checked: 2 });
  });

  it('pg pipeline mode: INSERT and COMMIT go out together; a failed INSERT (no partition yet) rolls back, and the retry stores the batch once', async () => {
    const piped = new pg.Pool({ connectionString: app.options.connectionString, max: 2, pipeline: true });
    try {
      const clock = new ManualClock('2033-03-15T10:00:00Z');
      const sink = new PostgresAuditSink({ pool: piped, clock });
      const log = createAuditLog({ sink, clock, signingKey: keys.secretKey, publicKeys: [keys.publicKey] });
      const record = (i: number) =>
        log.record({
          tenantId: 'piped',
          actor: { id: `u${i}` },
          action: 'invoice.created',
          targets: [{ type: 'invoice', id: String(i) }],
          outcome: 'success',
        });
      // The first batch lands in a month with no partition: the pipelined INSERT fails (23514), the
      // COMMIT sent with it rolls back, the partition is created and the batch retried.
      await asTenant('piped', () => Promise.all(Array.from({ length: 20 }, (_, i) => record(i))));
      clock.advance(40 * 24 * 3600 * 1000);
      await asTenant('piped', () => Promise.all(Array.from({ length: 20 }, (_, i) => record(20 + i))));
      const { rows } = await owner.query<{ seq: string; n: number }>(
        "SELECT seq, count(*) OVER ()::int AS n FROM tenantry_audit_events WHERE tenant_id = 'piped' ORDER BY seq",
      );
      expect(rows.map((r) => Number(r.seq))).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
      expect(await inTenant('piped', log).verify('piped')).toMatchObject({ ok: true, checked: 40 });
      // The INSERT and COMMIT of one append leave in ONE socket write: count the writes of a direct
      // append (nothing else runs meanwhile) and the statements of that last write.
      const direct = createAuditLog({
        sink,
        clock,
        signingKey: keys.secretKey,
        publicKeys: [keys.publicKey],
        delivery: { mode: 'direct' },
      });
      const socketLog = recordSocketWrites();
      try {
        await asTenant('piped', () =>
          direct.record({ tenantId: 'piped', actor: { id: 'w' }, action: 'a.b', outcome: 'success' }),
        );
      } finally {
        socketLog.restore();
      }
      const writes = socketLog.writes;
      const last = writes.at(-1) ?? '';
      expect(last).toContain('INSERT INTO');
      expect(last).toContain('COMMIT');
      expect(writes.filter((w) => w.includes('COMMIT'))).toHaveLength(1);
      // Connections come back idle (no transaction left open by a failed pipeline).
      const c = await piped.connect();
      try {
        expect((await c.query('SELECT now() = statement_timestamp() AS fresh')).rows[0].fresh).toBe(true);
      } finally {
        c.release();
      }
    } finally {
      await piped.end();
    }
  });

  it('retention drops whole partitions; the remaining range verifies against the checkpoint taken before the drop', async () => {
    const clock = new ManualClock('2032-01-10T00:00:00Z');
    const sink = new PostgresAuditSink({ pool: app, clock });
    const log = createAuditLog({
      sink,
      clock,
      signingKey: keys.secretKey,
      publicKeys: [keys.publicKey],
      delivery: { mode: 'direct' },
    });
    for (let i = 0; i < 3; i++)
      await inTenant('retained', log).record({
        tenantId: 'retained',
        actor: { id: 'u' },
        action: 'a.b',
        outcome: 'success',
      });
    const boundary = await inTenant('retained', log).checkpoint('retained');
    clock.set('2032-02-10T00:00:00Z');
    for (let i = 0; i < 2; i++)
      await inTenant('retained', log).record({
        tenantId: 'retained',
        actor: { id: 'u' },
        action: 'a.b',
        outcome: 'success',
      });
    // The owner (not the application role) drops January: DROP is not UPDATE/DELETE/TRUNCATE.
    await owner.query('DROP TABLE tenantry_audit_events_203201');
    expect(await inTenant('retained', log).verify('retained', { useStoredCheckpoints: false })).toMatchObject(
      {
        ok: false,
        firstBadSeq: 1,
        kind: 'missing',
      },
    );
    expect(await inTenant('retained', log).verify('retained', { fromSeq: boundary!.seq + 1 })).toMatchObject({
      ok: true,
      checked: 2,
    });
  });

  it('queries by target use the generated target keys', async () => {
    const log = await seed('query', 5);
    const r = await inTenant('query', log).query({ tenantId: 'query', target: { type: 'invoice', id: '3' } });
    expect(r.events.map((e) => e.targets)).toEqual([[{ type: 'invoice', id: '3' }]]);
  });

  it('wraps driver errors: a missing table is AUDIT_NOT_MIGRATED, an unreachable server AUDIT_STORE_UNAVAILABLE', async () => {
    const unmigrated = new PostgresAuditSink({ pool: app, schema: 'not_migrated' });
    const e1 = await unmigrated.head('acme').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(e1).toMatchObject({ code: 'AUDIT_NOT_MIGRATED', status: 500 });
    const down = new pg.Pool({
      connectionString: 'postgres://nobody@127.0.0.1:1/none',
      connectionTimeoutMillis: 2000,
    });
    try {
      const sink = new PostgresAuditSink({ pool: down });
      for (const call of [() => sink.head('acme'), () => sink.append(preparedEvents('acme', 1))]) {
        const e = await call().then(
          () => undefined,
          (err: unknown) => err,
        );
        expect(e).toMatchObject({ code: 'AUDIT_STORE_UNAVAILABLE', retryable: true, status: 503 });
        expect((e as { cause?: unknown }).cause).toBeDefined();
      }
    } finally {
      await down.end();
    }
  });

  describe('the database enforces the chain shape (issue 11 #15)', () => {
    const cols =
      'tenant_id, seq, recorded_at, prev_hash, hash, body, id, actor_id, action, occurred_at, targets';
    /** A row as the application role could write it by hand: correctly hashed, with index columns as given. */
    const row = (
      tenant: string,
      seq: number,
      recordedAt: number,
      prevHash: string,
      index: { actorId?: string; action?: string } = {},
    ) => {
      const [e] = preparedEvents(tenant, 1);
      const ix = eventIndexOf(e!.body);
      return [
        tenant,
        seq,
        recordedAt,
        prevHash,
        hashEvent(tenant, seq, recordedAt, prevHash, e!.text),
        e!.text,
        e!.id,
        index.actorId ?? ix.actorId,
        index.action ?? ix.action,
        new Date(ix.occurredAt).toISOString(),
        [...ix.targets],
      ];
    };
    const insert = (values: unknown[]) =>
      app.query(
        `INSERT INTO tenantry_audit_events (${cols}) VALUES (${values.map((_, i) => `$${i + 1}`).join(', ')})`,
        values,
      );
    const head = async (t: string) =>
      (
        await app.query<{ seq: string; hash: string; us: string }>(
          `SELECT seq, hash, recorded_at AS us FROM tenantry_audit_events WHERE tenant_id = $1 ORDER BY seq DESC LIMIT 1`,
          [t],
        )
      ).rows[0]!;

    it('refuses, for the application role, a duplicate seq in another month, a gap, a fork and a bad first event', async () => {
      const clock = new ManualClock('2033-01-20T00:00:00Z');
      const guarded = await seed('guarded', 3, clock); // January 2033
      const h = await head('guarded');
      const feb = Date.parse('2033-02-10T00:00:00Z') * 1000;
      await new PostgresAuditSink({
        pool: app,
        clock: new ManualClock('2033-02-10T00:00:00Z'),
      }).ensurePartitions(new Date('2033-02-01T00:00:00Z'), 1);
      // Before the guard, per-partition uniqueness let a second seq 3 into February's partition.
      for (const [what, values] of [
        ['duplicate seq in another partition', row('guarded', 3, feb, h.hash)],
        ['gap', row('guarded', 5, feb, h.hash)],
        ['fork (prev hash not the head)', row('guarded', 4, feb, '1'.repeat(64))],
        ['store time before the head', row('guarded', 4, Number(h.us) - 1, h.hash)],
        ['first event not at seq 1', row('fresh-chain', 2, feb, '0'.repeat(64))],
        ['first event not on genesis', row('fresh-chain-2', 1, feb, '1'.repeat(64))],
      ] as const) {
        await expect(insert([...values]), what).rejects.toMatchObject({ code: '23000' });
      }
      // A correct append by hand is what the role may do.
      await insert(row('guarded', 4, feb, h.hash));
      expect(await inTenant('guarded', guarded).verify()).toMatchObject({ ok: true, checked: 4 });
    });

    it('verify reports a tail event whose query columns disagree with its hashed body (index-mismatch)', async () => {
      const clock = new ManualClock('2033-03-05T00:00:00Z');
      const indexed = await seed('indexed', 2, clock);
      const h = await head('indexed');
      await insert(
        row('indexed', 3, Number(h.us) + 1, h.hash, { actorId: 'someone-else', action: 'invoice.created' }),
      );
      expect(await inTenant('indexed', indexed).verify()).toMatchObject({
        ok: false,
        firstBadSeq: 3,
        kind: 'index-mismatch',
      });
      // Opting out proves the chain only: the lying row is then not noticed.
      expect(await inTenant('indexed', indexed).verify(undefined, { checkIndex: false })).toMatchObject({
        ok: true,
        checked: 3,
      });
    });
  });
});
