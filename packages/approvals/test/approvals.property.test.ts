import { ManualClock, MemoryAuditPort, runAsTenant } from '@tenantry/core';
import { settledCode } from '@tenantry/core/testing';
import { hasBackend, skipLabel } from '@tenantry/testkit';
import fc from 'fast-check';
import { Pool as PgPool } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApprovalEngine, type ApprovalStore, createApprovalEngine } from '../src/index.js';
import { MemoryApprovalStore } from '../src/memory.js';
import { PostgresApprovalStore } from '../src/postgres.js';
import { migrated, usePostgres } from './helpers.js';

// Model-based test: random sequences of request / approve / reject / cancel / expire / sweep / retry
// against the engine and a small reference model, comparing every request's status, the soft locks and
// the handler's effects after each step.

const TTL = 600_000;
const ACTORS = {
  maker: ['OPERATOR'],
  m1: ['MANAGER'],
  m2: ['MANAGER'],
  m3: ['MANAGER', 'TENANT_ADMIN'],
  u: ['USER'],
} as const;
type ActorId = keyof typeof ACTORS;
const ACTIONS = {
  // 2 approvals, automatic execution, retry of a failed execution allowed
  'asset.delete': { required: 2, auto: true, retry: true },
  // 1 approval, manual execution, no retry
  'asset.export': { required: 1, auto: false, retry: false },
} as const;
type Action = keyof typeof ACTIONS;
type Fail = 'never' | 'once' | 'always';

interface ModelRequest {
  id: string;
  action: Action;
  resource: string;
  maker: ActorId;
  fail: Fail;
  approvals: Set<string>;
  state: 'PENDING' | 'APPROVED' | 'REJECTED' | 'EXPIRED' | 'CANCELLED';
  exec: 'NONE' | 'EXECUTED' | 'FAILED';
  expiresAt: number;
  locked: boolean;
  attempts: number;
  effects: number;
}
interface Model {
  now: number;
  requests: ModelRequest[];
}
interface Real {
  engine: ApprovalEngine;
  clock: ManualClock;
  tenant: string;
  locks: Map<string, number>;
  effects: Map<string, number>;
  attempts: Map<string, number>;
}

const as = <R>(r: Real, actor: ActorId, fn: (e: ApprovalEngine) => Promise<R>) =>
  runAsTenant({ tenantId: r.tenant, actor: { id: actor, roles: [...ACTORS[actor]] } }, () => fn(r.engine));

const statusOf = (m: ModelRequest, now: number): string => {
  if (m.state === 'PENDING' && now >= m.expiresAt) return 'EXPIRED';
  if (m.state === 'APPROVED' && m.exec !== 'NONE') return m.exec;
  return m.state;
};
const release = (m: ModelRequest) => {
  m.locked = false;
};
/** The write path's expiry: a PENDING request past its deadline is written EXPIRED and unlocked. */
const expireIfDue = (model: Model, m: ModelRequest): boolean => {
  if (m.state === 'PENDING' && model.now >= m.expiresAt) {
    m.state = 'EXPIRED';
    release(m);
    return true;
  }
  return false;
};
const notPendingCode = (m: ModelRequest) =>
  m.state === 'EXPIRED' ? 'APPROVAL_EXPIRED' : 'APPROVAL_INVALID_STATE';
const execute = (m: ModelRequest) => {
  m.attempts++;
  const fails = m.fail === 'always' || (m.fail === 'once' && m.attempts === 1);
  if (fails) {
    m.exec = 'FAILED';
    if (!ACTIONS[m.action].retry) release(m);
  } else {
    m.exec = 'EXECUTED';
    m.effects++;
    release(m);
  }
};

type Cmd = fc.AsyncCommand<Model, Real>;

/** A command whose model part computes the expected outcome code, and whose real part returns the engine's. */
function command(
  name: string,
  model: (m: Model) => string,
  real: (m: Model, r: Real) => Promise<unknown>,
): Cmd {
  return {
    check: () => true,
    toString: () => name,
    async run(m, r) {
      const expected = model(m);
      const got = await settledCode(real(m, r).then(() => undefined));
      expect(`${name}: ${got}`).toBe(`${name}: ${expected}`);
      await compare(m, r);
    },
  };
}

async function compare(model: Model, real: Real): Promise<void> {
  const locks = new Map<string, number>();
  for (const m of model.requests) {
    const view = await as(real, 'm1', (e) => e.get({ requestId: m.id }));
    expect(`${m.id} ${view.status}`).toBe(`${m.id} ${statusOf(m, model.now)}`);
    expect(`${m.id} effects ${real.effects.get(m.id) ?? 0}`).toBe(`${m.id} effects ${m.effects}`);
    if (m.locked) locks.set(m.resource, (locks.get(m.resource) ?? 0) + 1);
  }
  const realLocks = [...real.locks].filter(([, n]) => n !== 0).sort();
  expect(realLocks).toEqual([...locks].sort());
}

const actorArb = fc.constantFrom<ActorId>('maker', 'm1', 'm2', 'm3', 'u');
const pick = (m: Model, i: number) => m.requests[i % m.requests.length];

const commands = [
  fc
    .record({
      resource: fc.constantFrom('r0', 'r1'),
      action: fc.constantFrom<Action>('asset.delete', 'asset.export'),
      fail: fc.constantFrom<Fail>('never', 'never', 'once', 'always'),
    })
    .map(({ resource, action, fail }) => {
      let pendingId: string | undefined;
      return command(
        `request ${action} ${resource} fail=${fail}`,
        (m) => {
          pendingId = undefined;
          const pending = m.requests.find(
            (x) => x.state === 'PENDING' && x.action === action && x.resource === resource,
          );
          if (pending && !expireIfDue(m, pending)) return 'APPROVAL_DUPLICATE_PENDING';
          pendingId = '';
          return 'resolved';
        },
        async (m, r) => {
          const made = await as(r, 'maker', (e) =>
            e.request({
              action,
              resource: { type: 'asset', id: resource },
              justification: 'model',
              payload: { fail },
            }),
          );
          if (pendingId === '') {
            m.requests.push({
              id: made.id,
              action,
              resource,
              maker: 'maker',
              fail,
              approvals: new Set(),
              state: 'PENDING',
              exec: 'NONE',
              expiresAt: m.now + TTL,
              locked: true,
              attempts: 0,
              effects: 0,
            });
          }
        },
      );
    }),
  fc
    .tuple(fc.nat(), actorArb, fc.constantFrom('approve', 'reject', 'cancel', 'execute'))
    .map(([i, actor, op]) =>
      command(
        `${op} #${i} by ${actor}`,
        (model) => {
          const m = pick(model, i);
          if (!m) return 'APPROVAL_NOT_FOUND';
          if (expireIfDue(model, m)) return 'APPROVAL_EXPIRED';
          const spec = ACTIONS[m.action];
          const eligible = ACTORS[actor].includes('MANAGER' as never);
          if (op === 'cancel') {
            if (m.state !== 'PENDING') return notPendingCode(m);
            if (actor !== m.maker) return 'APPROVAL_NOT_MAKER';
            m.state = 'CANCELLED';
            release(m);
            return 'resolved';
          }
          if (op === 'execute') {
            if (m.state !== 'APPROVED') return notPendingCode(m);
            if (actor !== m.maker && !eligible) return 'APPROVAL_NOT_ELIGIBLE';
            if (m.exec === 'EXECUTED') return 'APPROVAL_INVALID_STATE';
            if (m.exec === 'FAILED' && !spec.retry) return 'APPROVAL_RETRY_NOT_ALLOWED';
            execute(m);
            return 'resolved';
          }
          if (m.state !== 'PENDING') return notPendingCode(m);
          if (actor === m.maker) return 'APPROVAL_SELF_APPROVAL';
          if (m.approvals.has(actor)) return 'APPROVAL_ALREADY_DECIDED';
          if (!eligible) return 'APPROVAL_NOT_ELIGIBLE';
          if (op === 'reject') {
            m.state = 'REJECTED';
            release(m);
            return 'resolved';
          }
          m.approvals.add(actor);
          if (m.approvals.size >= spec.required) {
            m.state = 'APPROVED';
            if (spec.auto) execute(m);
          }
          return 'resolved';
        },
        async (model, r) => {
          const id = pick(model, i)?.id ?? '01900000-0000-7000-8000-000000000000';
          return as(r, actor, (e) =>
            op === 'approve'
              ? e.approve({ requestId: id })
              : op === 'reject'
                ? e.reject({ requestId: id })
                : op === 'cancel'
                  ? e.cancel({ requestId: id })
                  : e.execute({ requestId: id }),
          );
        },
      ),
    ),
  fc.constantFrom(60_000, 300_000, TTL).map((ms) =>
    command(
      `advance clock ${ms} ms`,
      (m) => {
        m.now += ms;
        return 'resolved';
      },
      async (_m, r) => r.clock.advance(ms),
    ),
  ),
  fc.constant(
    command(
      'sweep',
      (model) => {
        for (const m of model.requests) expireIfDue(model, m);
        return 'resolved';
      },
      async (_m, r) => as(r, 'm3', (e) => e.sweep()),
    ),
  ),
];

let runSeq = 0;
async function realFor(store: ApprovalStore): Promise<Real> {
  const clock = new ManualClock('2031-01-01T00:00:00Z');
  const locks = new Map<string, number>();
  const effects = new Map<string, number>();
  const attempts = new Map<string, number>();
  const engine = createApprovalEngine({ store, audit: new MemoryAuditPort(), clock });
  engine.registerResource('asset', {
    lock: ({ resource }) => void locks.set(resource.id, (locks.get(resource.id) ?? 0) + 1),
    unlock: ({ resource }) => void locks.set(resource.id, (locks.get(resource.id) ?? 0) - 1),
  });
  for (const action of Object.keys(ACTIONS)) {
    engine.registerAction(action, {
      execute: ({ request, payload }) => {
        const n = (attempts.get(request.id) ?? 0) + 1;
        attempts.set(request.id, n);
        const fail = (payload as { fail: Fail }).fail;
        if (fail === 'always' || (fail === 'once' && n === 1))
          throw Object.assign(new Error('x'), { code: 'MODEL_FAIL' });
        effects.set(request.id, (effects.get(request.id) ?? 0) + 1);
      },
    });
  }
  const tenant = `model-${++runSeq}-${Date.now().toString(36)}`;
  const real: Real = { engine, clock, tenant, locks, effects, attempts };
  await as(real, 'm3', (e) =>
    e.setPolicies({
      policies: Object.entries(ACTIONS).map(([action, s]) => ({
        action,
        approvalsRequired: s.required,
        approverRoles: ['MANAGER'],
        ttlMs: TTL,
        execution: s.auto ? ('auto' as const) : ('manual' as const),
        retryFailed: s.retry,
      })),
    }),
  );
  return real;
}

const property = (store: () => ApprovalStore) =>
  fc.asyncProperty(fc.commands(commands, { maxCommands: 40, size: 'large' }), async (cmds) => {
    const real = await realFor(store());
    await fc.asyncModelRun(() => ({ model: { now: 0, requests: [] }, real }), cmds);
  });

describe('model-based: engine against a reference model', () => {
  it('memory store', async () => {
    await fc.assert(
      property(() => new MemoryApprovalStore()),
      { numRuns: 60 },
    );
  }, 120_000);
});

const db = usePostgres();
describe.skipIf(!hasBackend('postgres')).each([
  { pipeline: false, mode: 'one reply at a time' },
  { pipeline: true, mode: 'pg pipeline mode' },
])(`model-based on PostgreSQL, $mode${skipLabel('postgres')}`, ({ pipeline }) => {
  let store: PostgresApprovalStore;
  let pool: PgPool;
  beforeAll(async () => {
    pool = pipeline ? new PgPool({ connectionString: db.url(), max: 6, pipeline: true }) : db.pool();
    store = new PostgresApprovalStore({ pool: await migrated(pool) });
  });
  afterAll(() => pool.end());
  it('PostgreSQL store', async () => {
    await fc.assert(
      property(() => store),
      { numRuns: 12 },
    );
  }, 180_000);
});
