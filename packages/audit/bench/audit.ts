// Benchmarks of @tenantry/audit against PostgreSQL (needs PG_URL or a local server on 5432):
//  1. chained append (per-tenant advisory lock, head read, SHA-256 chain, one INSERT … unnest) vs a
//     hand-written multi-row INSERT … VALUES of the same rows (seq and hashes precomputed);
//  2. the same insert without the chain work (the sink's INSERT … unnest fed precomputed rows) vs the same baseline;
//  2b. 4 writers on 4 tenants at once, chained vs hand-written;
//  3. verify (keyset pages of 5000, prefetching, node:crypto SHA-256) vs a hand-written loop doing
//     the minimum: the same SELECT pages and one SHA-256 per row, no chain logic;
//  4. SHA-256 of one event: node:crypto (used) vs @noble/hashes (measured to choose).
import { createHash, hash as oneShotHash, randomBytes } from 'node:crypto';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { type BenchRow, compare, printBench } from '@tenantry/testkit/bench';
import pg from 'pg';
import {
  AuditEventInputSchema,
  AuditLimitsSchema,
  type ChainedEvent,
  type PreparedEvent,
  createAuditLog,
  createMasker,
  prepareEvent,
  verifyEvents,
} from '@tenantry/audit';
import { PostgresAuditSink, auditChainGuardSql, auditMigrationSql } from '@tenantry/audit/postgres';
import { runAsTenant, uuidv7 } from '@tenantry/core';

const BATCH = 500;
const VERIFY_EVENTS = 200_000;
const baseUrl = process.env.PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const dbName = `audit_bench_${randomBytes(4).toString('hex')}`;
const admin = new pg.Client({ connectionString: baseUrl });
await admin.connect();
await admin.query(`CREATE DATABASE ${dbName}`);
const url = new URL(baseUrl);
url.pathname = `/${dbName}`;
const pool = new pg.Pool({ connectionString: url.toString(), max: 4 });
// Idle connections are cut when the bench database is dropped at the end.
pool.on('error', () => undefined);
const masker = createMasker();
const asVerifyTenant = <R>(fn: () => Promise<R>) =>
  runAsTenant({ tenantId: 'verify', actor: { id: 'bench' } }, fn);
const limits = AuditLimitsSchema.parse({});

function events(tenant: string, n: number): PreparedEvent[] {
  return Array.from({ length: n }, (_, i) =>
    prepareEvent(
      {
        ...AuditEventInputSchema.parse({
          actor: { id: `user-${i % 50}`, roles: ['MANAGER'], displayName: 'Ann Example' },
          action: 'invoice.updated',
          targets: [{ type: 'invoice', id: `INV-2026-${String(i).padStart(6, '0')}` }],
          outcome: 'success',
          request: { ip: '203.0.113.7', userAgent: 'Mozilla/5.0 (X11; Linux x86_64)', requestId: `req-${i}` },
          changes: { before: { status: 'draft', total: 1200 }, after: { status: 'issued', total: 1200 } },
          metadata: { source: 'api', password: 'masked' },
        }),
        tenantId: tenant,
      },
      { id: uuidv7(), now: Date.now(), masker, limits },
    ),
  );
}

try {
  // The schema as shipped: the tables (001) and the database-enforced chain shape (002).
  await pool.query(auditMigrationSql());
  await pool.query(auditChainGuardSql());
  const sink = new PostgresAuditSink({ pool });
  const rows: BenchRow[] = [];
  const template = events('t', BATCH);
  // Each copy is a consistent event (its text names its own id and tenant: verify checks the id column against it).
  const fresh = (tenant: string) =>
    template.map((e) => {
      const id = uuidv7();
      const text = e.text.replace(e.id, id).replace('"tenantId":"t"', `"tenantId":${JSON.stringify(tenant)}`);
      return { ...e, id, chain: tenant, text, body: { ...e.body, id, tenantId: tenant } };
    });

  // Baseline: a hand-written multi-row INSERT … VALUES of the same rows (seq and hashes computed up front).
  // The rows link (seq + 1, prev_hash = previous hash), as the database's chain guard requires.
  const counters = new Map<string, number>();
  const lastHash = new Map<string, string>();
  const precomputed = (tenant: string) => {
    let seq = counters.get(tenant) ?? 0;
    const now = Date.now() * 1000;
    return template.map((e) => {
      seq++;
      counters.set(tenant, seq);
      const id = uuidv7();
      const text = e.text.replace(e.id, id);
      const b = e.body;
      const prev = lastHash.get(tenant) ?? '0'.repeat(64);
      const hash = createHash('sha256').update(`${prev}${text}`).digest('hex');
      lastHash.set(tenant, hash);
      return [
        tenant,
        seq,
        now,
        prev,
        hash,
        text,
        id,
        b.actor.id,
        b.action,
        new Date(b.occurredAt).toISOString(),
        b.targets.flatMap((t) => [`${t.type}:`, `${t.type}:${t.id ?? ''}`]),
      ] as const;
    });
  };
  const COLS = 11;
  const valuesSql = `INSERT INTO tenantry_audit_events (tenant_id, seq, recorded_at, prev_hash, hash, body, id, actor_id, action, occurred_at, targets) VALUES ${template
    .map((_, i) => `(${Array.from({ length: COLS }, (_, c) => `$${i * COLS + c + 1}`).join(', ')})`)
    .join(', ')}`;
  const handWritten = async () => {
    await pool.query(valuesSql, precomputed('baseline').flat());
  };
  // The sink's own INSERT statement, fed precomputed rows: what appending costs without the chain work.
  const unnestSql = `INSERT INTO tenantry_audit_events (tenant_id, seq, recorded_at, prev_hash, hash, body, id, actor_id, action, occurred_at, targets)
    SELECT t, s, r, p, h, b, i, a, x, o, ARRAY(SELECT jsonb_array_elements_text(g))
    FROM unnest($1::text[], $2::int8[], $3::int8[], $4::text[], $5::text[], $6::text[], $7::uuid[], $8::text[], $9::text[], $10::timestamptz[], $11::jsonb[])
      AS u(t, s, r, p, h, b, i, a, x, o, g)`;
  const unchained = async () => {
    const r = precomputed('unchained');
    await pool.query(
      unnestSql,
      Array.from({ length: COLS }, (_, c) => r.map((row) => (c === 10 ? JSON.stringify(row[c]) : row[c]))),
    );
  };

  rows.push(
    await compare({
      workload: `PG append, ${BATCH}-event batches, hash-chained (ours) vs hand-written multi-row INSERT VALUES (baseline)`,
      unit: 'events/s',
      ours: () => sink.append(fresh('chained')),
      baseline: handWritten,
      unitsPerCall: BATCH,
      durationMs: 2000,
    }),
  );
  rows.push(
    await compare({
      workload: `PG append, ${BATCH}-event batches, no chain: our INSERT…unnest (ours) vs hand-written multi-row INSERT VALUES (baseline)`,
      unit: 'events/s',
      ours: unchained,
      baseline: handWritten,
      unitsPerCall: BATCH,
      durationMs: 2000,
    }),
  );
  rows.push(
    await compare({
      workload: `PG append, ${BATCH}-event batches, 4 writers on 4 tenants, hash-chained (ours) vs hand-written INSERT VALUES (baseline)`,
      unit: 'events/s',
      ours: (() => {
        let k = 0;
        return () => sink.append(fresh(`c${k++ % 4}`));
      })(),
      baseline: (() => {
        // Per-tenant order, as the chain guard requires (ours serialises per tenant with an advisory lock).
        let k = 0;
        const tails = new Map<string, Promise<unknown>>();
        return () => {
          const t = `b${k++ % 4}`;
          const run = (tails.get(t) ?? Promise.resolve()).then(() =>
            pool.query(valuesSql, precomputed(t).flat()),
          );
          tails.set(
            t,
            run.catch(() => undefined),
          );
          return run;
        };
      })(),
      unitsPerCall: BATCH,
      durationMs: 2000,
      concurrency: 4,
    }),
  );

  // Verify: seed one tenant with VERIFY_EVENTS chained events.
  for (let i = 0; i < VERIFY_EVENTS; i += 1000) await sink.append([...fresh('verify'), ...fresh('verify')]);
  // An audit table is insert-only, which autovacuum handles (PG 13+); make that state explicit.
  await pool.query('VACUUM (ANALYZE) tenantry_audit_events');
  const log = createAuditLog({ sink });
  const check = await asVerifyTenant(() => log.verify('verify'));
  if (!check.ok || check.checked !== VERIFY_EVENTS)
    throw new Error(`verify failed: ${JSON.stringify(check)}`);
  const handVerify = async () => {
    let after = 0;
    let n = 0;
    while (true) {
      const { rows: page } = await pool.query<{
        seq: string;
        us: string;
        prev_hash: string;
        hash: string;
        body: string;
      }>(
        `SELECT seq, recorded_at AS us, prev_hash, hash, body FROM tenantry_audit_events
         WHERE tenant_id = 'verify' AND seq > $1 ORDER BY seq LIMIT 5000`,
        [after],
      );
      if (page.length === 0) break;
      for (const r of page) {
        if (
          oneShotHash(
            'sha256',
            `tenantry-audit-v1\nverify\n${r.seq}\n${r.us}\n${r.prev_hash}\n${r.body}`,
            'hex',
          ) === r.hash
        )
          n++;
      }
      after = Number(page[page.length - 1]!.seq);
    }
    return n;
  };
  if ((await handVerify()) !== VERIFY_EVENTS) throw new Error('hand-written verify disagrees');
  rows.push(
    await compare({
      workload: `verify ${VERIFY_EVENTS.toLocaleString('en-US')} events in PG (ours) vs hand-written keyset SELECT + sha256 per row (baseline)`,
      unit: 'events/s',
      ours: () => asVerifyTenant(() => log.verify('verify')),
      baseline: handVerify,
      unitsPerCall: VERIFY_EVENTS,
      durationMs: 3000,
    }),
  );
  // The CPU side of verify alone: the chain walk over rows already in memory vs hashing each row.
  const inMemory: ChainedEvent[][] = [];
  for (let after = 0; ; ) {
    const page = await sink.readChain('verify', after, 5000);
    if (page.length === 0) break;
    inMemory.push(page);
    after = page[page.length - 1]!.seq;
  }
  rows.push(
    await compare({
      workload: `verify ${VERIFY_EVENTS.toLocaleString('en-US')} events already in memory: verifyEvents (ours) vs one sha256 per row (baseline)`,
      unit: 'events/s',
      ours: () => verifyEvents('verify', inMemory),
      baseline: () => {
        let n = 0;
        for (const page of inMemory) {
          for (const e of page)
            if (oneShotHash('sha256', `${e.seq}${e.recordedAt}${e.prevHash}${e.text}`, 'hex') !== e.hash) n++;
        }
        return n;
      },
      unitsPerCall: VERIFY_EVENTS,
      durationMs: 2000,
    }),
  );
  const text = template[0]!.text;
  rows.push(
    await compare({
      workload: `SHA-256 of one ${Buffer.byteLength(text)}-byte event: node:crypto (ours) vs @noble/hashes sha256 (baseline)`,
      unit: 'hashes/s',
      ours: () => oneShotHash('sha256', text, 'hex'),
      baseline: () => bytesToHex(sha256(new TextEncoder().encode(text))),
      batch: 1000,
      durationMs: 1000,
    }),
  );
  printBench('@tenantry/audit', rows);
} finally {
  await pool.end();
  await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  await admin.end();
}
