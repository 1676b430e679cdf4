import { assertChange, assertCounterKey } from '../../counter-store.js';
import { createHash, randomBytes } from 'node:crypto';
import { isTenantryError, type RedisLike, TenantryError } from '@tenantry/core';
import { z } from 'zod';
import {
  alreadyVoided,
  type CounterState,
  type CounterStore,
  checkVoid,
  conflict,
  fenced,
  type VoidRecord,
} from '../../counter-store.js';
import { SequencerError } from '../../errors.js';
import {
  type AcquireOptions,
  type FusedLockedCounter,
  type LockBackend,
  type LockLease,
  lockTimeout,
  sleep,
} from '../../lock-backend.js';
import type { CounterKey } from '../../series.js';
import { SCRIPTS } from './scripts.js';
import { parseSequencerInput } from '../../input.js';

/** Options of {@link RedisSequencerBackend} besides the client. */
export const RedisSequencerBackendOptionsSchema = z.object({
  /** Prefix of every key, before the `{tenant:series}` hash tag. @default 'tenantry:seq' */
  prefix: z
    .string()
    .regex(/^[A-Za-z0-9:_.-]{1,64}$/)
    .default('tenantry:seq'),
});

/** Options of {@link RedisSequencerBackend}. */
export interface RedisSequencerBackendOptions extends z.input<typeof RedisSequencerBackendOptionsSchema> {
  /** The user's ioredis `Redis` or `Cluster`; never closed by the backend. */
  redis: RedisLike;
}

/**
 * Wrap an ioredis error (cause kept, never in the message): connection failures →
 * `SEQUENCER_STORE_UNAVAILABLE` (retryable), anything else → `SEQUENCER_STORE_FAILED`.
 */
function mapRedisError(error: unknown): Error {
  if (isTenantryError(error)) return error;
  const e = error as { code?: unknown; name?: unknown; message?: unknown } | null;
  const text = `${String(e?.code ?? '')} ${String(e?.name ?? '')} ${String(e?.message ?? '')}`;
  if (
    /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|ENOTFOUND|Connection is closed|MaxRetriesPerRequest|CLUSTERDOWN|LOADING|TRYAGAIN|MASTERDOWN|READONLY|ClusterAllFailed|Stream isn't writeable/i.test(
      text,
    )
  ) {
    return new SequencerError(
      'SEQUENCER_STORE_UNAVAILABLE',
      'The Redis sequencer backend is unreachable; retry later',
      {
        cause: error,
      },
    );
  }
  return new SequencerError('SEQUENCER_STORE_FAILED', 'The Redis sequencer backend failed; see the cause', {
    cause: error,
  });
}

type ScriptName = keyof typeof SCRIPTS;
const SHAS = Object.fromEntries(
  Object.entries(SCRIPTS).map(([k, v]) => [k, createHash('sha1').update(v).digest('hex')]),
) as Record<ScriptName, string>;

const str = (v: unknown): string => (typeof v === 'string' ? v : v == null ? '' : String(v));
const toState = (m: unknown, d: unknown): CounterState => ({
  mark: str(m) === '' ? null : Number(str(m)),
  lastIssueDate: str(d) === '' ? null : str(d),
});

interface CounterKeys {
  readonly lock: string;
  readonly mark: string;
  readonly voids: string;
}

/** A Redis lease: methods on the prototype and the key names kept, so allocation builds them once. */
class RedisLease implements LockLease {
  constructor(
    readonly fence: number,
    readonly value: string,
    readonly keys: CounterKeys,
    readonly backend: RedisSequencerBackend,
  ) {}
  renew(ttlMs: number): Promise<boolean> {
    return this.backend.renewLease(this, ttlMs);
  }
  release(): Promise<void> {
    return this.backend.releaseLease(this);
  }
  reseed(above: number): Promise<LockLease | null> {
    return this.backend.reseedLease(this, above);
  }
}

/**
 * Redis lock backend and counter store in one (ioredis `Redis` or `Cluster`). Keys are
 * `<prefix>:{<tenant>:<series>}:<lock|mark|voids>:<period>`: one hash tag per series, so every Lua
 * script touches one Cluster slot. Locks are `SET NX PX` with a value unique to the acquisition, fencing
 * tokens come from `HINCRBY` on the counter's hash (which also fences off older holders at once), renewal and release compare the owner value in Lua
 * (a holder never deletes a newer holder's lock). Used as both lock and store of
 * `createLockedSequencer`, allocation takes two round trips (lock+read, advance+release), and the
 * advance is refused atomically when the lease was lost.
 *
 * Redis is not the truth: a failover can lose acknowledged writes, so the document store's unique
 * constraint and `highestCommitted` recovery keep S1/S2 (see README).
 * @example const backend = new RedisSequencerBackend({ redis }); const seq = createLockedSequencer({ lock: backend, store: backend, highestCommitted });
 */
export class RedisSequencerBackend implements LockBackend, CounterStore, FusedLockedCounter {
  readonly kind = 'redis';
  readonly capabilities = Object.freeze({ sharesTransactionWithDocuments: false, ownsConnection: false });
  readonly #redis: RedisLike;
  readonly #prefix: string;
  readonly #owner = randomBytes(9).toString('base64url');
  #leases = 0;

  /** A lock value unique to this acquisition: process-random prefix + local counter. */
  #nextValue(): string {
    this.#leases = (this.#leases + 1) % Number.MAX_SAFE_INTEGER;
    return `${this.#owner}:${this.#leases}`;
  }

  /**
   * @param options.redis an ioredis `Redis` or `Cluster` (not closed by the backend)
   * @param options.prefix key prefix before the hash tag @default 'tenantry:seq'
   * @throws TenantryError `VALIDATION_FAILED` without a client or with a malformed prefix
   */
  constructor(options: RedisSequencerBackendOptions) {
    let redis: RedisLike | undefined;
    let prefix: unknown;
    try {
      redis = (options as { redis?: unknown } | undefined)?.redis as RedisLike | undefined;
      prefix = options?.prefix;
      if (typeof redis?.evalsha !== 'function' || typeof redis?.eval !== 'function') redis = undefined;
    } catch {
      redis = undefined;
    }
    if (redis === undefined) {
      throw new TenantryError(
        'VALIDATION_FAILED',
        'RedisSequencerBackend needs { redis }: an ioredis Redis or Cluster',
        {
          details: { issues: [{ path: ['redis'], message: 'expected an ioredis client' }] },
        },
      );
    }
    this.#redis = redis;
    this.#prefix = parseSequencerInput(
      RedisSequencerBackendOptionsSchema,
      { prefix },
      'redis backend options',
    ).prefix;
  }

  /** The keys of one counter (exposed for operators and tests). */
  keys(key: CounterKey): CounterKeys {
    assertCounterKey(key);
    const base = `${this.#prefix}:{${key.tenant}:${key.series}}`;
    const p = key.period === '' ? '-' : key.period;
    return { lock: `${base}:lock:${p}`, mark: `${base}:mark:${p}`, voids: `${base}:voids:${p}` };
  }

  /** EVALSHA, falling back to EVAL once when the server lost its script cache (restart, failover, FLUSH). */
  #run(name: ScriptName, keys: number, ...args: Array<string | number>): Promise<unknown> {
    return this.#redis
      .evalsha(SHAS[name], keys, ...args)
      .catch((e: unknown) => {
        if (!String((e as Error)?.message ?? '').includes('NOSCRIPT')) throw e;
        return this.#redis.eval(SCRIPTS[name], keys, ...args);
      })
      .catch((e: unknown) => {
        throw mapRedisError(e);
      });
  }

  /** @internal */
  async renewLease(lease: RedisLease, ttlMs: number): Promise<boolean> {
    return Number(await this.#run('renew', 1, lease.keys.lock, lease.value, ttlMs)) === 1;
  }

  /** @internal */
  async reseedLease(lease: RedisLease, above: number): Promise<LockLease | null> {
    const f = Number(await this.#run('reseed', 2, lease.keys.lock, lease.keys.mark, lease.value, above));
    return f > 0 ? new RedisLease(f, lease.value, lease.keys, this) : null;
  }

  /** @internal */
  async releaseLease(lease: RedisLease): Promise<void> {
    await this.#run('release', 1, lease.keys.lock, lease.value);
  }

  async #acquireLoop<T>(
    key: CounterKey,
    options: AcquireOptions,
    attempt: () => Promise<T | number>,
  ): Promise<T> {
    const deadline = Date.now() + options.waitMs;
    for (let backoff = 2; ; backoff = Math.min(backoff * 2, 50)) {
      const r = await attempt();
      if (typeof r !== 'number') return r;
      const left = deadline - Date.now();
      if (left <= 0) throw lockTimeout(key, options.waitMs);
      const pttl = r > 0 ? r : backoff;
      await sleep(Math.max(1, Math.min(left, pttl, backoff * (0.5 + Math.random()))));
    }
  }

  async acquire(key: CounterKey, options: AcquireOptions): Promise<LockLease> {
    assertCounterKey(key);
    assertChange(options, ['ttlMs', 'waitMs']);
    const k = this.keys(key);
    return this.#acquireLoop(key, options, async () => {
      const value = this.#nextValue();
      const r = (await this.#run('acquire', 2, k.lock, k.mark, value, options.ttlMs)) as unknown[];
      return Number(r[0]) === 0 ? Number(r[1]) : new RedisLease(Number(r[0]), value, k, this);
    });
  }

  async acquireAndRead(
    key: CounterKey,
    options: AcquireOptions,
  ): Promise<{ lease: LockLease; state: CounterState }> {
    assertCounterKey(key);
    assertChange(options, ['ttlMs', 'waitMs']);
    const k = this.keys(key);
    return this.#acquireLoop(key, options, async () => {
      const value = this.#nextValue();
      const r = (await this.#run('acquireRead', 2, k.lock, k.mark, value, options.ttlMs)) as unknown[];
      if (Number(r[0]) === 0) return Number(r[1]);
      return { lease: new RedisLease(Number(r[0]), value, k, this), state: toState(r[1], r[2]) };
    });
  }

  #ownLease(lease: LockLease): RedisLease {
    // A lease from another backend instance (or a forged one) is refused: its keys may not be ours.
    if (!(lease instanceof RedisLease) || lease.backend !== this) {
      throw new TenantryError('VALIDATION_FAILED', 'The lease was not taken by this backend', {
        details: { issues: [{ path: ['lease'], message: 'foreign lease' }] },
      });
    }
    return lease;
  }

  async advanceAndRelease(
    lease: LockLease,
    key: CounterKey,
    change: { from: number | null; to: number; issueDate?: string | undefined },
  ): Promise<void> {
    const own = this.#ownLease(lease);
    const k = own.keys;
    const r = Number(
      await this.#run(
        'advanceRelease',
        2,
        k.lock,
        k.mark,
        own.value,
        change.from === null ? '' : String(change.from),
        String(change.to),
        own.fence,
        change.issueDate ?? '',
      ),
    );
    if (r === 1) return;
    await this.#advanceFailed(own, key, r);
  }

  /** Advance the mark if the lease still holds the lock, keeping the lock with its TTL reset to `ttlMs`. */
  async advanceAndKeep(
    lease: LockLease,
    key: CounterKey,
    change: { from: number | null; to: number; issueDate?: string | undefined },
    ttlMs: number,
  ): Promise<CounterState> {
    const own = this.#ownLease(lease);
    const k = own.keys;
    const r = (await this.#run(
      'advanceKeep',
      2,
      k.lock,
      k.mark,
      own.value,
      change.from === null ? '' : String(change.from),
      String(change.to),
      own.fence,
      change.issueDate ?? '',
      ttlMs,
    )) as unknown[];
    const code = Number(r[0]);
    if (code === 1) return toState(r[1], r[2]);
    return this.#advanceFailed(own, key, code);
  }

  async #advanceFailed(lease: RedisLease, key: CounterKey, r: number): Promise<never> {
    await lease.release().catch(() => undefined);
    if (r === -3) {
      throw new SequencerError(
        'SEQUENCER_LOCK_LOST',
        `Lost the lock of series ${key.series} before advancing`,
        {
          details: { tenant: key.tenant, series: key.series, period: key.period, fence: lease.fence },
        },
      );
    }
    throw r === -1 ? fenced(key, lease.fence) : conflict(key);
  }

  async read(key: CounterKey, fence: number): Promise<CounterState> {
    assertCounterKey(key);
    assertChange({ fence }, ['fence']);
    const r = (await this.#run('read', 1, this.keys(key).mark, fence)) as unknown[];
    if (Number(r[0]) !== 1) throw fenced(key, fence, Number(r[1]));
    return toState(r[1], r[2]);
  }

  async peek(key: CounterKey): Promise<CounterState> {
    assertCounterKey(key);
    const r = (await this.#run('peek', 1, this.keys(key).mark)) as unknown[];
    return toState(r[0], r[1]);
  }

  async advance(
    key: CounterKey,
    change: { from: number | null; to: number; fence: number; issueDate?: string | undefined },
  ): Promise<void> {
    assertCounterKey(key);
    assertChange(change, ['from', 'to', 'fence', 'issueDate']);
    const r = Number(
      await this.#run(
        'advance',
        1,
        this.keys(key).mark,
        change.from === null ? '' : String(change.from),
        String(change.to),
        change.fence,
        change.issueDate ?? '',
      ),
    );
    if (r === 1) return;
    throw r === -1 ? fenced(key, change.fence) : conflict(key);
  }

  async recover(key: CounterKey, change: { committed: number | null; fence: number }): Promise<CounterState> {
    assertCounterKey(key);
    assertChange(change, ['committed', 'fence']);
    const r = (await this.#run(
      'recover',
      1,
      this.keys(key).mark,
      change.committed === null ? '' : String(change.committed),
      change.fence,
    )) as unknown[];
    if (Number(r[0]) !== 1) throw fenced(key, change.fence);
    return toState(r[1], r[2]);
  }

  async recordVoid(key: CounterKey, record: VoidRecord): Promise<void> {
    assertCounterKey(key);
    assertChange(record, ['number', 'record']);
    const k = this.keys(key);
    const json = JSON.stringify({ reason: record.reason, voidedAt: record.voidedAt.toISOString() });
    const r = Number(
      await this.#run('recordVoid', 2, k.mark, k.voids, String(record.number), key.start, json),
    );
    if (r === -1) checkVoid(key, null, record.number);
    if (r === -2) throw alreadyVoided(key, record.number);
  }

  async listVoids(key: CounterKey): Promise<VoidRecord[]> {
    assertCounterKey(key);
    const flat = (await this.#run('listVoids', 1, this.keys(key).voids)) as string[];
    const out: VoidRecord[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) {
      const v = JSON.parse(str(flat[i + 1])) as { reason: string; voidedAt: string };
      out.push(Object.freeze({ number: Number(flat[i]), reason: v.reason, voidedAt: new Date(v.voidedAt) }));
    }
    return out.sort((a, b) => a.number - b.number);
  }
}
