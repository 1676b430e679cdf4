// The PostgreSQL invalidation bus behind a connection pooler (issue 19): LISTEN needs a session, which
// PgBouncer in transaction mode does not keep, so a pooled LISTEN connection is refused at start with
// INVALIDATION_BUS_POOLED; NOTIFY (the pool) may go through the pooler.
import { backendStatus, hasBackend, skipLabel, useTestDatabase, withDatabase } from '@tenantry/testkit';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type InvalidationMessage,
  createTenantConfigCache,
  isTenantryError,
  type TenantStore,
} from '../src/index.js';
import { PostgresInvalidationBus, PostgresTenantStore, type PgListenClientLike } from '../src/postgres.js';

const db = hasBackend('postgres')
  ? useTestDatabase()
  : { url: () => '', directUrl: () => '', name: () => '' };

/** A listener that records what it is told. */
function recorder() {
  const messages: InvalidationMessage[] = [];
  const events: string[] = [];
  return {
    messages,
    events,
    listener: {
      onMessage: (m: InvalidationMessage) => messages.push(m),
      onReady: () => events.push('ready'),
      onReset: () => events.push('reset'),
    },
  };
}

/** `connect` for the bus, recording every client it opened and whether it ended. */
function opener(url: string) {
  const opened: Array<{ client: pg.Client; ended: boolean }> = [];
  return {
    opened,
    connect: async (): Promise<pg.Client> => {
      const client = new pg.Client({ connectionString: url });
      const entry = { client, ended: false };
      client.on('end', () => {
        entry.ended = true;
      });
      opened.push(entry);
      await client.connect();
      return client;
    },
  };
}

const poolerUrl = (): string => {
  const s = backendStatus('pgbouncer');
  if (!s.available) throw new Error(s.reason);
  return withDatabase(s.url, db.name());
};

const until = async (check: () => boolean, ms = 5_000): Promise<void> => {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe.skipIf(!hasBackend('postgres') || !hasBackend('pgbouncer'))(
  `invalidation bus behind PgBouncer in transaction mode${skipLabel('postgres')}${skipLabel('pgbouncer')}`,
  () => {
    let pooled: pg.Pool;
    beforeAll(() => {
      pooled = new pg.Pool({ connectionString: poolerUrl(), max: 2 });
      pooled.on('error', () => undefined);
    });
    afterAll(() => pooled?.end());

    it('refuses a LISTEN connection through the pooler at start, with a typed error naming what to configure', async () => {
      const open = opener(poolerUrl());
      const bus = new PostgresInvalidationBus({ pool: pooled, connect: open.connect, channel: 'tk_pooled' });
      const r = recorder();
      const error = await bus.subscribe(r.listener).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isTenantryError(error, 'INVALIDATION_BUS_POOLED')).toBe(true);
      expect((error as Error).message).toMatch(/direct connection/);
      expect((error as { status?: number }).status).toBe(500);
      expect(r.events).toEqual([]); // never reported ready
      expect(open.opened).toHaveLength(1); // no reconnect loop behind the refusal
      await until(() => open.opened[0]?.ended === true); // the refused connection is closed
      await new Promise((r) => setTimeout(r, 300));
      expect(open.opened).toHaveLength(1);
      await expect(bus.sync()).rejects.toMatchObject({ code: 'INVALIDATION_BUS_DOWN' });
    });

    it('a config cache whose bus listens through the pooler refuses to start', async () => {
      const bus = new PostgresInvalidationBus({ pool: pooled, connect: opener(poolerUrl()).connect });
      const store: TenantStore = new PostgresTenantStore({ pool: pooled });
      const cache = createTenantConfigCache({ store, bus });
      await expect(cache.start()).rejects.toMatchObject({ code: 'INVALIDATION_BUS_POOLED' });
      expect(cache.healthy).toBe(false);
    });

    it('works with LISTEN on a direct connection and NOTIFY sent through the pooler', async () => {
      const open = opener(db.directUrl());
      const bus = new PostgresInvalidationBus({ pool: pooled, connect: open.connect, channel: 'tk_direct' });
      const r = recorder();
      const unsubscribe = await bus.subscribe(r.listener);
      try {
        expect(r.events).toEqual(['ready']);
        await bus.publish({ scope: 'tenant', id: 'acme' });
        // NOTIFY from inside a transaction on a pooled connection is delivered at its commit.
        const client = await pooled.connect();
        try {
          await client.query('BEGIN');
          await client.query("SELECT pg_notify('tk_direct', $1)", [
            JSON.stringify({ scope: 'plan', id: 'pro' }),
          ]);
          await client.query('COMMIT');
        } finally {
          client.release();
        }
        await bus.sync();
        await until(() => r.messages.length >= 2);
        expect(r.messages).toEqual([
          { scope: 'tenant', id: 'acme' },
          { scope: 'plan', id: 'pro' },
        ]);
      } finally {
        await unsubscribe();
      }
    });
  },
);

describe.skipIf(!hasBackend('postgres'))(`invalidation bus: pooler detection${skipLabel('postgres')}`, () => {
  /** A direct client that reports another start-up process id, as any pooler's does. */
  const lying = async (): Promise<PgListenClientLike> => {
    const c = new pg.Client({ connectionString: db.directUrl() });
    await c.connect();
    const real = (c as unknown as { processID: number }).processID;
    Object.defineProperty(c, 'processID', { value: real + 1 });
    return c as unknown as PgListenClientLike;
  };

  it('a start-up process id that is not the session’s is refused; refusePooler: false (session mode) accepts it', async () => {
    const pool = new pg.Pool({ connectionString: db.url(), max: 1 });
    try {
      const refused = new PostgresInvalidationBus({ pool, connect: lying });
      await expect(refused.subscribe(recorder().listener)).rejects.toMatchObject({
        code: 'INVALIDATION_BUS_POOLED',
      });
      const accepted = new PostgresInvalidationBus({ pool, connect: lying, refusePooler: false });
      const r = recorder();
      const unsubscribe = await accepted.subscribe(r.listener);
      expect(r.events).toEqual(['ready']);
      await unsubscribe();
    } finally {
      await pool.end();
    }
  });

  it('a first LISTEN connection that cannot be opened is a retryable INVALIDATION_BUS_DOWN, not a driver error', async () => {
    const pool = new pg.Pool({ connectionString: db.url(), max: 1 });
    try {
      const bus = new PostgresInvalidationBus({
        pool,
        connect: opener('postgres://postgres@127.0.0.1:1/postgres').connect,
        reconnectDelayMs: [10, 20],
      });
      const error = await bus.subscribe(recorder().listener).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isTenantryError(error, 'INVALIDATION_BUS_DOWN')).toBe(true);
      expect((error as { retryable?: boolean }).retryable).toBe(true);
    } finally {
      await pool.end();
    }
  });

  it('publish on an unreachable server is a retryable CORE_STORE_UNAVAILABLE', async () => {
    const pool = new pg.Pool({ connectionString: 'postgres://postgres@127.0.0.1:1/postgres', max: 1 });
    pool.on('error', () => undefined);
    try {
      const bus = new PostgresInvalidationBus({ pool, connect: lying });
      await expect(bus.publish({ scope: 'global' })).rejects.toMatchObject({
        code: 'CORE_STORE_UNAVAILABLE',
        retryable: true,
      });
    } finally {
      await pool.end();
    }
  });
});
