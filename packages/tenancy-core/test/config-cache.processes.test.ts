import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import {
  hasBackend,
  skipLabel,
  sourceNodeFlags,
  uniqueId,
  useRedisPrefix,
  useTestDatabase,
} from '@tenantry/testkit';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type InvalidationBus, type TenantDirectory, createTenantDirectory } from '../src/index.js';
import {
  PostgresTenantStore,
  coreModelMigrations,
  PostgresInvalidationBus,
  runMigrations,
} from '../src/postgres.js';
import { RedisInvalidationBus } from '../src/redis.js';
import { backOffice } from './helpers.js';

const reader = fileURLToPath(new URL('./workers/config-cache-reader.ts', import.meta.url));
const db = useTestDatabase();
const redisPrefix = hasBackend('redis') ? useRedisPrefix() : { prefix: () => '', url: () => '' };

interface Answer {
  id: number;
  theme: string | null;
  version: number | null;
  maintenance: boolean | null;
  healthy: boolean;
  hits: number;
  misses: number;
  resets: number;
}

/** The other process: a child running its own pool, bus and cache. */
class Reader {
  #next = 0;
  readonly #waiting = new Map<number, (a: Answer) => void>();
  readonly ready: Promise<void>;
  constructor(readonly child: ChildProcess) {
    let markReady!: () => void;
    this.ready = new Promise((r) => {
      markReady = r;
    });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.on('exit', (code) => {
      if (code !== 0) console.error(`reader exited ${code}: ${stderr}`);
    });
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const msg = JSON.parse(line) as Answer & { ready?: boolean };
      if (msg.ready) markReady();
      else this.#waiting.get(msg.id)?.(msg);
    });
  }
  read(tenant: string): Promise<Answer> {
    const id = ++this.#next;
    return new Promise((resolve) => {
      this.#waiting.set(id, resolve);
      this.child.stdin!.write(`${JSON.stringify({ id, tenant })}\n`);
    });
  }
  async stop(): Promise<void> {
    const exited = new Promise((r) => this.child.on('exit', r));
    this.child.stdin!.write(`${JSON.stringify({ exit: true })}\n`);
    await exited;
  }
}

const cases = [
  ['postgres', 'strict'],
  ['redis', 'strict'],
  ['postgres', 'eventual'],
  ['redis', 'eventual'],
] as const;

for (const [backend, consistency] of cases) {
  const missing = !hasBackend('postgres') || !hasBackend(backend);
  const label = `${skipLabel('postgres')}${backend === 'redis' ? skipLabel('redis') : ''}`;
  describe.skipIf(missing)(`config cache across two processes [${backend}, ${consistency}]${label}`, () => {
    let pool: pg.Pool;
    let directory: TenantDirectory;
    let reader2: Reader;
    let closeBus: () => void = () => undefined;
    const channel = backend === 'postgres' ? uniqueId('cfg').toLowerCase() : `${redisPrefix.prefix()}cfg`;
    const clientName = uniqueId('reader');
    const tenant = uniqueId('t');

    beforeAll(async () => {
      pool = new pg.Pool({ connectionString: db.url(), max: 3 });
      await runMigrations(pool, coreModelMigrations);
      let bus: InvalidationBus;
      if (backend === 'postgres') {
        bus = new PostgresInvalidationBus({ pool, channel, connect: async () => new pg.Client() });
      } else {
        const publisher = new Redis(redisPrefix.url());
        closeBus = () => publisher.disconnect();
        bus = new RedisInvalidationBus({ redis: publisher, subscriber: publisher, channel });
      }
      directory = backOffice(createTenantDirectory({ store: new PostgresTenantStore({ pool }), bus }));
      await directory.createTenant({ id: tenant, name: 'Two', settings: { 'ui.theme': 'v0' } });
      await directory.activateTenant(tenant);
      reader2 = new Reader(
        spawn(
          process.execPath,
          [
            ...sourceNodeFlags(),
            reader,
            backend,
            db.url(),
            redisPrefix.url(),
            channel,
            clientName,
            consistency,
            db.directUrl(),
          ],
          {
            stdio: ['pipe', 'pipe', 'pipe'],
          },
        ),
      );
      await reader2.ready;
    }, 60_000);
    afterAll(async () => {
      await reader2?.stop();
      closeBus();
      await pool?.end();
    });

    /** strict: on the very next read; eventual: within 2 s. */
    async function expectSeen(theme: string): Promise<void> {
      let seen = await reader2.read(tenant);
      const deadline = Date.now() + (consistency === 'strict' ? 0 : 2_000);
      while (seen.theme !== theme && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 2));
        seen = await reader2.read(tenant);
      }
      expect(seen.theme).toBe(theme);
    }

    it('the other process serves repeated reads from its cache', async () => {
      const a = await reader2.read(tenant);
      const b = await reader2.read(tenant);
      expect(a.theme).toBe('v0');
      expect(b.hits).toBe(a.hits + 1);
      expect(b.misses).toBe(a.misses);
    });

    if (consistency === 'strict')
      it('an update made in this process is seen by the other on its next read (40 rounds)', async () => {
        const stale: number[] = [];
        for (let i = 1; i <= 40; i++) {
          const cached = await reader2.read(tenant); // make sure the old value is cached
          await directory.updateTenant(tenant, { settings: { 'ui.theme': `v${i}` } });
          const next = await reader2.read(tenant);
          if (next.theme !== `v${i}`) stale.push(i);
          if (i > 1) expect(cached.hits).toBeGreaterThan(0);
        }
        expect(stale).toEqual([]);
        await directory.updatePlatformSettings({ maintenance: true });
        expect((await reader2.read(tenant)).maintenance).toBe(true);
        await directory.updatePlatformSettings({ maintenance: false });
        expect((await reader2.read(tenant)).maintenance).toBe(false);
      });

    if (consistency === 'eventual')
      it('eventual: each update reaches the other process within 2 s (40 rounds)', async () => {
        let immediate = 0;
        for (let i = 1; i <= 40; i++) {
          await reader2.read(tenant);
          await directory.updateTenant(tenant, { settings: { 'ui.theme': `e${i}` } });
          let next = await reader2.read(tenant);
          if (next.theme === `e${i}`) immediate++;
          const deadline = Date.now() + 2_000;
          while (next.theme !== `e${i}` && Date.now() < deadline) {
            await new Promise((r) => setTimeout(r, 2));
            next = await reader2.read(tenant);
          }
          expect(next.theme).toBe(`e${i}`);
        }
        console.log(`[${backend} eventual] ${immediate}/40 updates visible on the very next read`);
      });

    it('when the other process loses its subscription, an update made meanwhile is still seen', async () => {
      await reader2.read(tenant);
      const before = await reader2.read(tenant);
      await killSubscription(backend, clientName, pool, redisPrefix.url());
      await directory.updateTenant(tenant, { settings: { 'ui.theme': 'during-outage' } });
      // strict: the barrier fails on the dead connection, so the read goes to the store.
      // eventual: fresh once the loss is noticed (the cache is flushed and bypassed).
      await expectSeen('during-outage');
      // It recovers: after the reconnect it caches again, and invalidations flow again.
      let a = await reader2.read(tenant);
      for (let i = 0; i < 100 && !a.healthy; i++) {
        await new Promise((r) => setTimeout(r, 50));
        a = await reader2.read(tenant);
      }
      expect(a.healthy).toBe(true);
      expect(a.resets).toBeGreaterThan(before.resets);
      await directory.updateTenant(tenant, { settings: { 'ui.theme': 'after-outage' } });
      await expectSeen('after-outage');
    });
  });
}

async function killSubscription(
  backend: string,
  name: string,
  pool: pg.Pool,
  redisUrl: string,
): Promise<void> {
  if (backend === 'postgres') {
    const { rows } = await pool.query(
      'SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE application_name = $1',
      [name],
    );
    expect(rows.length).toBe(1);
    return;
  }
  const admin = new Redis(redisUrl);
  try {
    const list = String(await admin.client('LIST'));
    const line = list.split('\n').find((l) => l.includes(` name=${name} `));
    expect(line).toBeDefined();
    const id = /(?:^|\s)id=(\d+)/.exec(line!)![1]!;
    await admin.client('KILL', 'ID', id);
  } finally {
    admin.disconnect();
  }
}
