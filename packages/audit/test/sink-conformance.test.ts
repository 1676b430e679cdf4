import { Writable } from 'node:stream';
import { hasBackend, runConformance, useMongoDatabase, useTestDatabase } from '@tenantry/testkit';
import pg from 'pg';
import { expect, it } from 'vitest';
import { createFanOutSink, createMemorySink, createStdoutSink, parseAuditLines } from '../src/index.js';
import { createMongoSink } from '../src/mongo.js';
import { createPostgresSink } from '../src/postgres.js';
import { type AuditSinkHarness, auditSinkSuite } from '../src/testing.js';
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
  const sink = createStdoutSink({ destination: destination as never, streamId: 'test-stream' });
  const readBack = async (chain: string) =>
    (parseAuditLines(lines).get(`test-stream\u0000${chain}`) ?? []).sort((a, b) => a.seq - b.seq);
  return { sink, readBack, lines };
}

let pgCleanup: (() => Promise<void>) | undefined;

runConformance<AuditSinkHarness & { close?: () => Promise<void> }>(
  'AuditSink',
  [
    { name: 'memory', setup: () => ({ sink: createMemorySink() }) },
    {
      name: 'postgres',
      needs: 'postgres',
      setup: async () => {
        const { appUrl, dropRole } = await migrateWithAppRole(db.url());
        const pool = new pg.Pool({ connectionString: appUrl, max: 6 });
        pgCleanup = dropRole;
        return { sink: createPostgresSink({ pool }), close: () => pool.end() };
      },
      teardown: async (h) => {
        await h.close?.();
        await pgCleanup?.();
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
      setup: () => ({ sink: createFanOutSink([createMemorySink(), capturingStdout().sink]) }),
    },
    {
      name: 'mongo',
      needs: 'mongo',
      setup: async () => {
        const { MongoClient } = await import('mongodb');
        const client = new MongoClient(mongo.url());
        await client.connect();
        const sink = createMongoSink({ db: client.db(mongo.name()) });
        await sink.ensureIndexes();
        return { sink, close: () => client.close() };
      },
      teardown: (h) => h.close?.(),
    },
  ],
  (h) => auditSinkSuite(h, { it, expect }),
);
