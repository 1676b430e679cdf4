import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hasBackend, pgVia, runWorkers, skipLabel, useTestDatabase } from '@tenantry/testkit';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileSpool, createAuditLog } from '../src/index.js';
import { PostgresAuditSink } from '../src/postgres.js';
import { asTenant, migrateWithAppRole } from './helpers.js';

const db = useTestDatabase();
const fixture = (name: string) => fileURLToPath(new URL(`./workers/${name}`, import.meta.url));

describe.skipIf(!hasBackend('postgres'))(`audit with several processes${skipLabel('postgres')}`, () => {
  let appUrl = '';
  let dropRole: () => Promise<void>;
  let pool: pg.Pool;
  beforeAll(async () => {
    const m = await migrateWithAppRole(db.url());
    appUrl = m.appUrl;
    dropRole = m.dropRole;
    pool = new pg.Pool({ connectionString: appUrl, max: 2 });
  });
  afterAll(async () => {
    await pool?.end();
    await dropRole?.();
  });

  it('4 processes appending to one tenant: the chain verifies and no event is missing', async () => {
    const res = await runWorkers({
      script: fixture('append-worker.ts'),
      workers: 4,
      args: () => [appUrl, 'shared', '250'],
      timeoutMs: 90_000,
    });
    const reported = res.messages.map((m) => (m as { id: string }).id);
    expect(reported).toHaveLength(1000);
    const { rows } = await pool.query<{ id: string; seq: string }>(
      `SELECT id::text, seq FROM tenantry_audit_events WHERE tenant_id = 'shared' ORDER BY seq`,
    );
    expect(rows.map((r) => Number(r.seq))).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1));
    expect(new Set(rows.map((r) => r.id))).toEqual(new Set(reported));
    const log = createAuditLog({ sink: new PostgresAuditSink({ pool }) });
    expect(await asTenant('shared', () => log.verify())).toMatchObject({ ok: true, checked: 1000 });
  }, 120_000);

  it('crash test: SIGKILL mid-stream, restart, every accepted event is stored exactly once', async () => {
    const root = await mkdtemp(join(tmpdir(), 'audit-crash-'));
    const res = await runWorkers({
      script: fixture('spool-worker.ts'),
      workers: 2,
      args: () => [appUrl, 'crashy', root, '2500'],
      chaos: { intervalMs: [1200, 2200], maxKills: 6 },
      timeoutMs: 110_000,
    });
    expect(res.kills).toBe(6);
    // The kills must land mid-stream: killed processes that had already accepted events.
    const killedMidStream = res.exits.filter(
      (e) => e.killedByChaos && e.messages.some((m) => (m as { accepted?: string }).accepted),
    );
    expect(killedMidStream.length).toBeGreaterThanOrEqual(2);
    const accepted = res.messages.flatMap((m) =>
      (m as { accepted?: string }).accepted ? [(m as { accepted: string }).accepted] : [],
    );
    // Deliver anything a killed generation left in a spool that no later generation drained.
    const sink = new PostgresAuditSink({ pool });
    for (const w of ['w0', 'w1']) {
      const spool = await FileSpool.open({ dir: join(root, w) });
      await spool.replay(sink);
      await spool.close();
    }
    const { rows } = await pool.query<{ id: string; n: number }>(
      `SELECT id::text, count(*)::int AS n FROM tenantry_audit_events WHERE tenant_id = 'crashy' GROUP BY id`,
    );
    const stored = new Map(rows.map((r) => [r.id, r.n]));
    expect(accepted.length).toBeGreaterThan(3000);
    expect(accepted.filter((id) => !stored.has(id))).toEqual([]);
    expect([...stored.values()].every((n) => n === 1)).toBe(true);
    const log = createAuditLog({ sink });
    expect(await asTenant('crashy', () => log.verify())).toMatchObject({ ok: true, checked: rows.length });
    console.log(
      `crash test: ${res.kills} kills (${killedMidStream.length} mid-stream), ${accepted.length} accepted, ${rows.length} stored (extra = accepted just before a kill, before its report was written)`,
    );
  }, 120_000);

  // pg_terminate_backend ends the server's connections, not the worker's connections to a pooler.
  it.skipIf(pgVia() === 'pgbouncer')(
    `idle connections terminated by the server: the worker reports a handled pool error and loses nothing${pgVia() === 'pgbouncer' ? " (skipped behind PgBouncer: terminating server connections does not close the worker's client connections to the pooler; runs on the direct pass)" : ''}`,
    async () => {
      const root = await mkdtemp(join(tmpdir(), 'audit-idle-kill-'));
      const url = new URL(appUrl);
      url.searchParams.set('application_name', 'audit-spool-worker');
      let done = false;
      let terminated = 0;
      // Terminate the worker's server connections (idle ones between its appends, in-use ones too) while it runs.
      const killer = (async () => {
        while (!done) {
          const { rows } = await pool.query<{ n: number }>(
            `SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity
            WHERE application_name = 'audit-spool-worker' AND state = 'idle'`,
          );
          terminated += rows[0]?.n ?? 0;
          await new Promise((r) => setTimeout(r, 100));
        }
      })();
      // runWorkers rejects when a worker exits non-zero: an unheard pool 'error' would end it.
      const res = await runWorkers({
        script: fixture('spool-worker.ts'),
        workers: 1,
        args: () => [url.toString(), 'idle-killed', root, '600'],
        timeoutMs: 60_000,
      }).finally(() => {
        done = true;
      });
      await killer;
      expect(terminated).toBeGreaterThan(0);
      expect(
        res.messages.filter((m) => (m as { poolError?: string }).poolError === '57P01').length,
      ).toBeGreaterThan(0);
      const accepted = res.messages.flatMap((m) =>
        (m as { accepted?: string }).accepted ? [(m as { accepted: string }).accepted] : [],
      );
      expect(accepted).toHaveLength(600);
      const { rows } = await pool.query<{ id: string; n: number }>(
        `SELECT id::text, count(*)::int AS n FROM tenantry_audit_events WHERE tenant_id = 'idle-killed' GROUP BY id`,
      );
      const stored = new Map(rows.map((r) => [r.id, r.n]));
      expect(accepted.filter((id) => !stored.has(id))).toEqual([]);
      expect([...stored.values()].every((n) => n === 1)).toBe(true);
    },
    90_000,
  );
});
