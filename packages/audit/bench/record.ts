// The cost of one audit event, in the process (no database): `auditLog.port.record(event)` for the
// event an HTTP adapter builds for a POST (the shape of @tenantry/http's requestAuditEvent), on the
// memory sink, buffered (the default, as the Express bench's full stack) and direct.
// Baseline, measured in the same run: the plain way by hand, i.e. the same event as canonical JSON
// (keys sorted) with an id and a time, chained with SHA-256 over (previous hash, text), appended to
// an array. It does no validation, no masking and no check that the values are storable, so it is
// the floor of what a tamper-evident log must do per event, not an equivalent of ours.
// Bounded: 3 alternating rounds × 1 s per side and row.
import { createHash, randomUUID } from 'node:crypto';
import { type AuditPortEvent, runAsTenant } from '@tenantry/core';
import { type BenchRow, compare, printBench } from '@tenantry/testkit/bench';
import { type AuditLog, createAuditLog } from '@tenantry/audit';
import { MemoryAuditSink } from '@tenantry/audit/memory';

const actor = { id: 'bench-user', roles: ['USER'], kind: 'user' as const };
// What requestAuditEvent returns for `POST /ops/hello` with body {"greeting":"hi"} (fresh per call,
// as the adapter builds one per request).
const requestEvent = (): AuditPortEvent => ({
  tenantId: 'acme',
  actor,
  action: 'http.post',
  targets: [{ type: 'route', id: 'POST /ops/hello' }],
  outcome: 'success',
  occurredAt: new Date(),
  metadata: { method: 'POST', route: '/ops/hello', status: 200, body: { greeting: 'hi' } },
  request: { ip: '127.0.0.1', userAgent: 'autocannon/8.0.0', requestId: randomUUID() },
});

// The memory sink keeps every event: start a fresh log now and then so memory stays bounded.
const FRESH_EVERY = 20_000;
function freshLogs(delivery: 'buffered' | 'direct'): () => AuditLog {
  let log = createAuditLog({ sink: new MemoryAuditSink(), delivery: { mode: delivery } });
  let n = 0;
  return () => {
    if (++n % FRESH_EVERY === 0) {
      void log.close();
      log = createAuditLog({ sink: new MemoryAuditSink(), delivery: { mode: delivery } });
    }
    return log;
  };
}

function sorted(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(sorted).join(',')}]`;
  const o = value as Record<string, unknown>;
  return `{${Object.keys(o)
    .sort()
    .filter((k) => o[k] !== undefined)
    .map((k) => `${JSON.stringify(k)}:${sorted(o[k])}`)
    .join(',')}}`;
}
let prev = '0'.repeat(64);
let byHand: Array<{ seq: number; prevHash: string; hash: string; text: string }> = [];
const handWritten = () => {
  const e = requestEvent();
  const text = sorted({ ...e, id: randomUUID(), occurredAt: e.occurredAt?.getTime() ?? Date.now() });
  const hash = createHash('sha256').update(prev).update(text).digest('hex');
  if (byHand.length >= FRESH_EVERY) byHand = [];
  byHand.push({ seq: byHand.length + 1, prevHash: prev, hash, text });
  prev = hash;
};

// Inside the request's tenant context, as the adapter records.
const inTenant = <R>(fn: () => R): R => runAsTenant({ tenantId: 'acme', actor }, fn);
// More events in flight than a batch holds (maxBatch 500), as under load: the writer then never
// lingers for company, so the row measures the work per event, not the 2 ms linger plus however long
// a busy machine takes to schedule the process again (with 256 in flight, that wait bounded the rate).
const CONCURRENCY = 1024;
const rows: BenchRow[] = [];
for (const mode of ['buffered', 'direct'] as const) {
  const logOf = freshLogs(mode);
  rows.push(
    await inTenant(() =>
      compare({
        workload: `audit: port.record of a request event (${mode}, memory sink) vs canonical JSON + SHA-256 chain by hand`,
        unit: 'events/s',
        ours: () => logOf().port.record(requestEvent()),
        baseline: handWritten,
        concurrency: mode === 'buffered' ? CONCURRENCY : 1,
        rounds: Number(process.env.BENCH_ROUNDS ?? 3),
        durationMs: Number(process.env.BENCH_MS ?? 1000),
      }),
    ),
  );
}
printBench('@tenantry/audit, one request-shaped event per call, in process', rows);
