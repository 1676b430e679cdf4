import { Writable } from 'node:stream';
import { hasBackend, runConformance, useMongoDatabase, useTestDatabase } from '@tenantry/testkit';
import { PG_CLIENT_KINDS } from '@tenantry/testkit/pg-clients';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { createFanOutSink } from '../src/index.js';
import { MemoryAuditSink } from '../src/memory.js';
import { MongoAuditSink, ensureAuditIndexes } from '../src/mongo.js';
import { PostgresAuditSink } from '../src/postgres.js';
import { StdoutAuditSink, parseAuditLines } from '../src/stdout.js';
import { type AuditSinkHarness, auditSinkConformance } from '../src/testing.js';
import { migrateWithAppRole } from './helpers.js';

const db = useTestDatabase();
// Only registered when Mongo is there: its hooks would otherwise fail the file.
const mongo = hasBackend('mongo') ? useMongoDatabase() : { url: () => '', name: () => '' };

function capturingStdout() {
  const lines: string[] = [];
  let partial = '';
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      const parts = (partial + chunk.toString()).split('\n');
      partial = parts.pop() ?? '';
      lines.push(...parts);
      cb();
    },
  });
  const sink = new StdoutAuditSink({ destination: destination as never, streamId: 'test-stream' });
  const readBack = async (chain: string) =>
    (parseAuditLines(lines).get(`test-stream\u0000${chain}`) ?? []).sort((a, b) => a.seq - b.seq);
  return { sink, readBack, lines };
}

const pgCleanups: Array<() => Promise<void>> = [];

runConformance<AuditSinkHarness & { close?: () => Promise<void> }>(
  'AuditSink',
  [
    { name: 'memory', setup: () => ({ sink: new MemoryAuditSink() }) },
    // Once per PostgreSQL client kind (node-postgres, Kysely, Drizzle, postgres.js).
    ...PG_CLIENT_KINDS.map((kind) => ({
      name: `postgres (${kind.name})`,
      needs: 'postgres' as const,
      setup: async () => {
        const { appUrl, dropRole } = await migrateWithAppRole(db.url());
        const { pool, close } = kind.open(appUrl, { max: 6 });
        pgCleanups.push(dropRole);
        return { sink: new PostgresAuditSink({ pool }), close };
      },
      teardown: async (h: AuditSinkHarness & { close?: () => Promise<void> }) => {
        await h.close?.();
        await pgCleanups.shift()?.();
      },
    })),
    {
      // Issue 20: the append's INSERT and COMMIT written together on a pipelined `pg` pool.
      name: 'postgres (pg pipeline mode)',
      needs: 'postgres',
      setup: async () => {
        const { appUrl, dropRole } = await migrateWithAppRole(db.url());
        const pool = new pg.Pool({ connectionString: appUrl, max: 6, pipeline: true });
        pgCleanups.push(dropRole);
        return { sink: new PostgresAuditSink({ pool }), close: () => pool.end() };
      },
      teardown: async (h) => {
        await h.close?.();
        await pgCleanups.shift()?.();
      },
    },
    {
      name: 'stdout (write-only, pino JSON lines)',
      setup: () => {
        const { sink, readBack } = capturingStdout();
        return { sink, readBack };
      },
    },
    {
      name: 'fan-out (memory + stdout)',
      setup: () => ({ sink: createFanOutSink([new MemoryAuditSink(), capturingStdout().sink]) }),
    },
    {
      name: 'mongo',
      needs: 'mongo',
      setup: async () => {
        const { MongoClient } = await import('mongodb');
        const client = new MongoClient(mongo.url());
        await client.connect();
        await ensureAuditIndexes(client.db(mongo.name()));
        const sink = new MongoAuditSink({ db: client.db(mongo.name()) });
        return { sink, close: () => client.close() };
      },
      teardown: (h) => h.close?.(),
    },
  ],
  (h) => auditSinkConformance(h, { describe, it, expect }),
);

// The harness contract: a harness may return a fresh sink on every call (the suite calls it once per
// test and keeps what it got for that test).
describe('AuditSink [memory, fresh sink per harness call]', () => {
  auditSinkConformance(() => ({ sink: new MemoryAuditSink() }), { describe, it, expect });
});
