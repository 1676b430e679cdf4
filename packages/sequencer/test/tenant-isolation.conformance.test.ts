// Invariant T1 against the sequencer's own public operations, with core's suite: inside tenant A naming
// B is refused, outside any context everything is refused, inside the audited system scope a named
// tenant works. The callback form on the memory backends, and the PostgreSQL forms (in-transaction, and
// withNumber plain and combining).
import { runMigrations } from '@tenantry/core/postgres';
import { tenantIsolationConformance, type TenantScopedOperation } from '@tenantry/core/testing';
import { hasBackend, skipLabel } from '@tenantry/testkit';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLockedSequencer, defineSeries } from '../src/index.js';
import { MemoryCounterStore, MemoryLockBackend } from '../src/memory.js';
import { createPostgresSequencer, scanPostgresDocuments, sequencerMigrations } from '../src/postgres.js';
import { useBackends } from './helpers.js';

const env = useBackends();

// Defined once, at module scope, with no tenant: every operation takes the tenant from the context.
const invoices = defineSeries({ key: 'invoice' });
const store = new MemoryCounterStore();
const seq = createLockedSequencer({
  lock: new MemoryLockBackend(),
  store,
  highestCommitted: async () => null,
});
const write = async () => undefined;

const operations: TenantScopedOperation[] = [
  { name: 'withNumber (next)', call: (tenantId) => seq.withNumber(invoices, { tenantId }, write) },
  {
    name: 'withNumbers (batch)',
    call: (tenantId) => seq.withNumbers(invoices, { tenantId, count: 3 }, write),
  },
  { name: 'lastCommitted', call: (tenantId) => seq.lastCommitted(invoices, { tenantId }) },
  {
    name: 'void',
    call: async (tenantId) => {
      // Issue a number first (same tenant resolution), then void it.
      const n = await seq.withNumber(invoices, { tenantId }, async (a) => a.number);
      return seq.void(invoices, n, { tenantId, reason: 'isolation suite' });
    },
  },
  { name: 'voids', call: (tenantId) => seq.voids(invoices, { tenantId }) },
];

describe('@tenantry/sequencer', () => {
  tenantIsolationConformance(() => ({ tenants: ['iso-a', 'iso-b'], operations }), { describe, it, expect });

  it('keeps each tenant on its own counter of the shared series (S5, T1)', async () => {
    const { runAsTenant } = await import('@tenantry/core');
    const take = (tenantId: string) =>
      runAsTenant({ tenantId, actor: { id: 'u' } }, () => seq.withNumber(invoices, {}, async (a) => a));
    const a1 = await take('own-a');
    const b1 = await take('own-b');
    const a2 = await take('own-a');
    expect([a1.tenant, a1.number, b1.tenant, b1.number, a2.number]).toEqual(['own-a', 1, 'own-b', 1, 2]);
  });
});

describe.skipIf(!hasBackend('postgres'))(`@tenantry/sequencer/postgres${skipLabel('postgres')}`, () => {
  let pool: pg.Pool;
  const pgSeq = createPostgresSequencer({ lockTimeoutMs: 2_000 });
  let plain: ReturnType<typeof createPostgresSequencer>;
  let combining: ReturnType<typeof createPostgresSequencer>;
  beforeAll(async () => {
    pool = new pg.Pool({ connectionString: env.pgUrl(), max: 4 });
    plain = createPostgresSequencer({ pool });
    combining = createPostgresSequencer({ pool, combine: { maxGroupSize: 8, maxWaitMs: 1 } });
    await runMigrations(pool, sequencerMigrations);
    await pool.query('CREATE TABLE docs (tenant text, series text, period text, number bigint)');
  });
  afterAll(() => pool.end());
  /** Run `fn` in a committed transaction. */
  const inTx = async <T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> => {
    const c = await pool.connect();
    try {
      await c.query('BEGIN');
      const r = await fn(c);
      await c.query('COMMIT');
      return r;
    } catch (e) {
      await c.query('ROLLBACK').catch(() => undefined);
      throw e;
    } finally {
      c.release();
    }
  };
  const pgOperations: TenantScopedOperation[] = [
    { name: 'next', call: (tenantId) => inTx((tx) => pgSeq.next(invoices, { tx, tenantId })) },
    { name: 'nextBatch', call: (tenantId) => inTx((tx) => pgSeq.nextBatch(invoices, 3, { tx, tenantId })) },
    { name: 'lastCommitted', call: (tenantId) => pgSeq.lastCommitted(invoices, { db: pool, tenantId }) },
    { name: 'withNumber', call: (tenantId) => plain.withNumber(invoices, { tenantId }, async (n) => n) },
    {
      name: 'withNumber (combining)',
      call: (tenantId) => combining.withNumber(invoices, { tenantId }, async (n) => n),
    },
    {
      name: 'void',
      call: (tenantId) =>
        inTx(async (tx) => {
          const n = await pgSeq.next(invoices, { tx, tenantId });
          return pgSeq.void(invoices, n.number, { tx, tenantId, reason: 'isolation suite' });
        }),
    },
    { name: 'voids', call: (tenantId) => pgSeq.voids(invoices, { db: pool, tenantId }) },
    {
      name: 'scanPostgresDocuments',
      call: (tenantId) => scanPostgresDocuments(pool, { table: 'docs', series: 'invoice', tenantId }),
    },
  ];
  tenantIsolationConformance(() => ({ tenants: ['iso-a', 'iso-b'], operations: pgOperations }), {
    describe,
    it,
    expect,
  });
});
