import {
  TenantryError,
  TelemetryAttributes,
  currentSystemScope,
  currentTenantContext,
  noopLogger,
  parseInput,
  resolveTenantId,
  systemClock,
  uuidv7,
  withSpan,
} from '@tenantry/core';
import { z } from 'zod';
import {
  type ApprovalEngine,
  type ApprovalEngineOptions,
  InboxQuerySchema,
  ListQuerySchema,
  type RequestPage,
  type TransactionOption,
} from './approval-engine.js';
import type { ApprovalStoreTx } from './approval-store.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import { ApprovalError } from './errors.js';
import {
  AUDIT_ACTIONS,
  type EngineKernel,
  ExecutionRolledBack,
  type PendingAudit,
  recordAudit,
  runExecution,
  runLock,
  runUnlock,
  writeTransition,
} from './execution.js';
import { ActionNameSchema, type PolicySet, PolicySetInputSchema, matchPolicy } from './policy.js';
import { PolicyCache } from './policy-cache.js';
import {
  type ApprovalRequest,
  type ApprovalRequestView,
  BypassInputSchema,
  CreateRequestSchema,
  DecisionInputSchema,
  type DecisionInput,
  ExecuteInputSchema,
  type RequestStatus,
  ResourceRefSchema,
  isExpired,
  viewOf,
} from './request.js';
import {
  type Decider,
  advance,
  approveStep,
  bypassStep,
  cancelStep,
  checkExecutor,
  entry,
  expireStep,
  rejectStep,
} from './transitions.js';

const RETRY = Symbol('retry');
/** `request()`: the store refused the insert because the policy set it was built from is no longer the latest. */
const STALE = Symbol('stale policy');
type StepOutcome = { request: ApprovalRequest; audits: PendingAudit; error?: ApprovalError } | typeof RETRY;
const RequestIdSchema = z.object({ requestId: z.uuid(), tenantId: z.string().optional() });
const WHAT = 'approval requests';

/**
 * Create the approval engine.
 * @example
 * const engine = createApprovalEngine({ store: new MemoryApprovalStore(), audit: new MemoryAuditPort() });
 */
const hasMethods =
  (...names: string[]) =>
  (v: unknown): boolean =>
    typeof v === 'object' &&
    v !== null &&
    names.every((n) => typeof (v as Record<string, unknown>)[n] === 'function');

/** The engine's options, checked by shape before anything is read from them (store and audit are ports). */
const EngineOptionsSchema = z.object({
  store: z.custom(hasMethods('unitOfWork', 'get', 'list'), 'must be an ApprovalStore'),
  audit: z.custom(hasMethods('record'), 'must be an AuditPort'),
  clock: z.custom(hasMethods('now'), 'must be a Clock').optional(),
  attributesOf: z.custom((f) => typeof f === 'function', 'must be a function').optional(),
  leaseMs: z.number().int().positive().optional(),
  maxRetries: z.number().int().nonnegative().optional(),
  policyCacheSize: z.number().int().nonnegative().max(1_000_000).optional(),
});

export function createApprovalEngine(options: ApprovalEngineOptions): ApprovalEngine {
  parseInput(EngineOptionsSchema, options, 'approval engine options');
  const k: EngineKernel = {
    store: options.store,
    audit: options.audit,
    clock: options.clock ?? systemClock,
    logger: options.logger ?? noopLogger,
    leaseMs: options.leaseMs ?? 60_000,
    actions: new Map(),
    resources: new Map(),
  };
  const maxRetries = options.maxRetries ?? 50;
  const attributesOf = options.attributesOf ?? (() => ({}));
  const policies = new PolicyCache(
    k.store.capabilities.policyVersionCheck === true ? (options.policyCacheSize ?? 1000) : 0,
  );

  const decider = (): Decider => {
    const ctx = currentTenantContext();
    const actor = ctx?.actor ?? currentSystemScope()?.actor;
    if (!actor) throw new TenantryError('TENANT_CONTEXT_MISSING', 'Approvals need an actor in context');
    return {
      actor,
      ...(ctx?.impersonator ? { impersonator: ctx.impersonator } : {}),
      attributes: attributesOf(actor),
    };
  };
  const span = <R>(op: string, tenantId: string, fn: () => Promise<R>) =>
    withSpan('approvals', op, { [TelemetryAttributes.TENANT_ID]: tenantId }, fn);
  const backoff = (attempt: number) =>
    attempt === 0
      ? Promise.resolve()
      : new Promise((r) => setTimeout(r, Math.random() * Math.min(50, 2 * attempt)));

  /** A unit of work; a handler failure that rolled back the store's own transaction comes back as a value. */
  const unitOfWorkOrFailure = async <O>(
    transaction: unknown,
    fn: (tx: ApprovalStoreTx) => Promise<O>,
  ): Promise<O | ExecutionRolledBack> => {
    if (transaction !== undefined && !k.store.capabilities.transactional) {
      // Checked against the declared capability, never guessed: ignoring it would break the caller's atomicity.
      throw new TenantryError('VALIDATION_FAILED', 'This approval store cannot join a caller transaction', {
        details: {
          what: 'transaction option',
          issues: [{ path: 'transaction', message: 'store is not transactional' }],
        },
      });
    }
    try {
      return await k.store.unitOfWork(fn, transaction);
    } catch (error) {
      if (error instanceof ExecutionRolledBack) return error;
      throw error;
    }
  };

  /** Expire `current` if its deadline passed: write it down, release the lock, audit. */
  const expireIfDue = async (
    tx: ApprovalStoreTx,
    current: ApprovalRequest,
    who: Decider,
  ): Promise<StepOutcome | null> => {
    if (!isExpired(current, k.clock.now())) return null;
    const written = await writeTransition(k, tx, current, expireStep(current, k.clock.now()), 'expired');
    if (!written) return RETRY;
    return { request: written, audits: [{ action: AUDIT_ACTIONS.expired, who }] };
  };

  /** Run one step on a request with conditional writes, retrying when it changed meanwhile. */
  const step = async (
    tenantId: string,
    requestId: string,
    transaction: unknown,
    body: (
      tx: ApprovalStoreTx,
      current: ApprovalRequest,
      who: Decider,
      forcedFailure: string | undefined,
    ) => Promise<StepOutcome>,
    onExpired: 'error' | 'return' = 'error',
  ): Promise<ApprovalRequest> => {
    const who = decider();
    let forced: string | undefined;
    for (let attempt = 0; attempt < maxRetries; attempt++) {
      await backoff(attempt);
      const out = await unitOfWorkOrFailure(transaction, async (tx): Promise<StepOutcome> => {
        const current = await tx.get(tenantId, requestId);
        if (!current) {
          throw new ApprovalError('APPROVAL_NOT_FOUND', `No approval request ${requestId}`, {
            details: { requestId },
          });
        }
        const expired = await expireIfDue(tx, current, who);
        let result: StepOutcome;
        if (expired === RETRY) return RETRY;
        if (expired) {
          result =
            onExpired === 'error'
              ? {
                  ...expired,
                  error: new ApprovalError('APPROVAL_EXPIRED', `Request ${requestId} expired`, {
                    details: { requestId, expiresAt: current.expiresAt },
                  }),
                }
              : expired;
        } else {
          result = await body(tx, current, who, forced);
          if (result === RETRY) return RETRY;
        }
        await recordAudit(k, result.request, result.audits, who);
        return result;
      });
      if (out instanceof ExecutionRolledBack) {
        forced = out.code;
        continue;
      }
      if (out === RETRY) continue;
      if (out.error) throw out.error;
      return out.request;
    }
    throw new ApprovalError('APPROVAL_CONFLICT', `Request ${requestId} kept changing; retry`, {
      details: { requestId },
    });
  };

  /** After an approval step: execute when it approved the request and execution is automatic. */
  const afterApproval = async (
    tx: ApprovalStoreTx,
    current: ApprovalRequest,
    next: ApprovalRequest,
    who: Decider,
    audits: PendingAudit,
    forced: string | undefined,
  ): Promise<StepOutcome> => {
    if (next.approvalState === 'APPROVED' && next.rules.policy?.execution !== 'manual') {
      const done = await runExecution(k, tx, current, next, who, audits, forced);
      return done ? { request: done, audits } : RETRY;
    }
    const written = await writeTransition(k, tx, current, next);
    return written ? { request: written, audits } : RETRY;
  };

  const decide = (
    op: 'approve' | 'reject' | 'cancel',
    input: DecisionInput,
    options: TransactionOption | undefined,
  ): Promise<ApprovalRequestView> => {
    const parsed = parseInput(DecisionInputSchema, input, `${op} input`);
    const tenantId = resolveTenantId(parsed.tenantId, WHAT);
    return span(op, tenantId, async () => {
      const stored = await step(
        tenantId,
        parsed.requestId,
        options?.transaction,
        async (tx, current, who, forced) => {
          const now = k.clock.now();
          if (op === 'approve') {
            const next = approveStep(current, who, now, parsed.comment);
            return afterApproval(tx, current, next, who, [{ action: AUDIT_ACTIONS.approved, who }], forced);
          }
          const next =
            op === 'reject'
              ? rejectStep(current, who, now, parsed.comment)
              : cancelStep(current, who, now, parsed.comment);
          const written = await writeTransition(
            k,
            tx,
            current,
            next,
            op === 'reject' ? 'rejected' : 'cancelled',
          );
          return written
            ? {
                request: written,
                audits: [{ action: AUDIT_ACTIONS[op === 'reject' ? 'rejected' : 'cancelled'], who }],
              }
            : RETRY;
        },
      );
      return viewOf(stored, k.clock.now());
    });
  };

  const page = async (
    tenantId: string,
    items: ApprovalRequest[],
    limit: number,
    keep?: (r: ApprovalRequestView) => boolean,
  ): Promise<RequestPage> => {
    const now = k.clock.now();
    const views = items.map((r) => viewOf(r, now));
    const last = items.length >= limit ? items[items.length - 1] : undefined;
    void tenantId;
    return { items: keep ? views.filter(keep) : views, nextCursor: last ? encodeCursor(last.id) : null };
  };

  return {
    registerAction(action, handler) {
      parseInput(ActionNameSchema, action, 'action name');
      k.actions.set(action, handler);
    },
    registerResource(type, hooks) {
      parseInput(ResourceRefSchema.shape.type, type, 'resource type');
      k.resources.set(type, hooks);
    },

    async getPolicies(opts = {}) {
      const tenantId = resolveTenantId(opts.tenantId, 'approval policies');
      return span('policies.get', tenantId, async () => {
        return (
          (await k.store.latestPolicySet(tenantId)) ?? {
            tenantId,
            version: 0,
            policies: [],
            bypass: { enabled: false, roles: ['SUPER_ADMIN'], allowMaker: false },
            createdAt: new Date(0),
            createdBy: '',
          }
        );
      });
    },

    async setPolicies(input) {
      const tenantId = resolveTenantId(input.tenantId, 'approval policies');
      const parsed = parseInput(PolicySetInputSchema, input, 'approval policies');
      const expected = input.expectedVersion;
      const who = decider();
      if (currentSystemScope() === undefined && !who.actor.roles.includes('TENANT_ADMIN')) {
        throw new TenantryError(
          'PERMISSION_DENIED',
          "Only a tenant admin may change the tenant's approval policies",
          {
            details: { what: 'approval policies' },
          },
        );
      }
      return span('policies.set', tenantId, async () => {
        const latest = await k.store.latestPolicySet(tenantId);
        const version = (latest?.version ?? 0) + 1;
        const conflict = () =>
          new ApprovalError(
            'APPROVAL_POLICY_CONFLICT',
            'The approval policies changed meanwhile; re-read them',
            {
              details: { expectedVersion: expected, currentVersion: latest?.version ?? 0 },
            },
          );
        if (expected !== undefined && expected !== version - 1) throw conflict();
        const set: PolicySet = {
          tenantId,
          version,
          policies: parsed.policies,
          bypass: parsed.bypass,
          createdAt: k.clock.now(),
          createdBy: who.actor.id,
        };
        if (!(await k.store.insertPolicySet(set))) throw conflict();
        policies.remember(tenantId, structuredClone(set));
        await k.audit.record({
          tenantId,
          actor: who.actor,
          ...(who.impersonator ? { impersonator: who.impersonator } : {}),
          action: 'approval.policy.changed',
          targets: [{ type: 'approval_policy_set', id: String(version) }],
          outcome: 'success',
          occurredAt: set.createdAt,
          metadata: {
            version,
            previousVersion: version - 1,
            actions: parsed.policies.map((p) => p.action),
            bypassEnabled: parsed.bypass.enabled,
          },
        });
        return set;
      });
    },

    async request(input, opts) {
      const parsed = parseInput(CreateRequestSchema, input, 'approval request');
      const tenantId = resolveTenantId(parsed.tenantId, WHAT);
      const who = decider();
      return withSpan(
        'approvals',
        'request',
        { [TelemetryAttributes.TENANT_ID]: tenantId, 'tenantry.approvals.action': parsed.action },
        async () => {
          if (!k.actions.has(parsed.action)) {
            throw new ApprovalError(
              'APPROVAL_HANDLER_MISSING',
              `No handler registered for action ${parsed.action}`,
              {
                details: { action: parsed.action },
              },
            );
          }
          const build = (set: PolicySet | null): ApprovalRequest => {
            const policy = set ? matchPolicy(set.policies, parsed.action) : undefined;
            if (policy && !k.resources.has(parsed.resource.type)) {
              throw new ApprovalError(
                'APPROVAL_HANDLER_MISSING',
                `No resource hooks registered for ${parsed.resource.type}`,
                {
                  details: { resourceType: parsed.resource.type },
                },
              );
            }
            const now = k.clock.now();
            return {
              id: uuidv7(),
              tenantId,
              action: parsed.action,
              resource: parsed.resource,
              makerId: who.actor.id,
              makerRoles: [...who.actor.roles],
              ...(who.impersonator ? { impersonatorId: who.impersonator.id } : {}),
              justification: parsed.justification,
              payload: parsed.payload,
              rules: {
                version: policy ? (set?.version ?? 0) : 0,
                policy: policy ?? null,
                bypass: set?.bypass ?? { enabled: false, roles: ['SUPER_ADMIN'], allowMaker: false },
              },
              approvalState: policy ? 'PENDING' : 'APPROVED',
              executionState: 'NONE',
              approvals: [],
              createdAt: now.toISOString(),
              updatedAt: now.toISOString(),
              expiresAt: new Date(now.getTime() + (policy?.ttlMs ?? 0)).toISOString(),
              history: [entry(policy ? 'requested' : 'executed_without_policy', who, now)],
              attempts: 0,
              locked: policy !== undefined,
              unlockPending: false,
              version: 1,
            };
          };
          // The cache serves calls outside a caller's transaction only: a caller's snapshot (REPEATABLE
          // READ) may predate a policy change committed before this call, and the insert's check would
          // then pass a stale cached set. In one, the latest set is read outside it, as without a cache.
          const cacheable = policies.capacity > 0 && opts?.transaction === undefined;
          const cached = cacheable ? policies.get(tenantId) : undefined;
          let set = cached !== undefined ? cached : await k.store.latestPolicySet(tenantId);
          if (cached === undefined) policies.remember(tenantId, set);
          // With the cache on, the insert itself confirms that `set` is still the latest (P4: a request
          // records the version in force when it is created). After a refusal the set is read again and
          // used unchecked, as without a cache.
          let checkPolicy = cacheable;
          let request = build(set);
          let forced: string | undefined;
          for (let attempt = 0; attempt < maxRetries; attempt++) {
            await backoff(attempt);
            const out = await unitOfWorkOrFailure(
              opts?.transaction,
              async (tx): Promise<StepOutcome | typeof STALE> => {
                const inserted = await tx.insert(
                  request,
                  checkPolicy ? { expectedPolicyVersion: set?.version ?? 0 } : undefined,
                );
                if (!inserted.inserted) {
                  if (inserted.stalePolicy) return STALE;
                  const expired = await expireIfDue(tx, inserted.pending, who);
                  if (expired && expired !== RETRY)
                    await recordAudit(k, expired.request, expired.audits, who);
                  if (expired) return RETRY;
                  return {
                    request: inserted.pending,
                    audits: [],
                    error: new ApprovalError(
                      'APPROVAL_DUPLICATE_PENDING',
                      `Request ${inserted.pending.id} for the same action on the same resource is pending`,
                      { details: { pendingRequestId: inserted.pending.id, action: request.action } },
                    ),
                  };
                }
                const audits: PendingAudit = [{ action: AUDIT_ACTIONS[request.history[0]!.type], who }];
                if (request.rules.policy === null) {
                  const done = await runExecution(
                    k,
                    tx,
                    request,
                    { ...request, version: 2 },
                    who,
                    audits,
                    forced,
                  );
                  const result = done ?? request;
                  await recordAudit(k, result, audits, who);
                  return { request: result, audits: [] };
                }
                try {
                  await runLock(k, tx, request);
                } catch (error) {
                  if (!k.store.capabilities.transactional) {
                    const now = k.clock.now();
                    const undo = advance(
                      request,
                      { approvalState: 'CANCELLED', locked: false },
                      now,
                      entry('cancelled', who, now, { comment: 'soft lock failed' }),
                    );
                    await tx.update(undo, request.version);
                  }
                  throw error;
                }
                await recordAudit(k, request, audits, who);
                return { request, audits: [] };
              },
            );
            if (out instanceof ExecutionRolledBack) {
              forced = out.code;
              continue;
            }
            if (out === STALE) {
              policies.forget(tenantId);
              set = await k.store.latestPolicySet(tenantId);
              policies.remember(tenantId, set);
              checkPolicy = false;
              request = build(set);
              continue;
            }
            if (out === RETRY) continue;
            if (out.error) throw out.error;
            return viewOf(out.request, k.clock.now());
          }
          throw new ApprovalError('APPROVAL_CONFLICT', 'The pending request kept changing; retry', {});
        },
      );
    },

    approve: (input, opts) => decide('approve', input, opts),
    reject: (input, opts) => decide('reject', input, opts),
    cancel: (input, opts) => decide('cancel', input, opts),

    async bypass(input, opts) {
      const parsed = parseInput(BypassInputSchema, input, 'bypass input');
      const tenantId = resolveTenantId(parsed.tenantId, WHAT);
      return span('bypass', tenantId, async () => {
        const stored = await step(
          tenantId,
          parsed.requestId,
          opts?.transaction,
          async (tx, current, who, forced) => {
            const next = bypassStep(current, who, k.clock.now(), parsed.reason);
            return afterApproval(
              tx,
              current,
              next,
              who,
              [{ action: AUDIT_ACTIONS.bypassed, who, extra: { reasonLength: parsed.reason.length } }],
              forced,
            );
          },
        );
        return viewOf(stored, k.clock.now());
      });
    },

    async execute(input, opts) {
      const parsed = parseInput(ExecuteInputSchema, input, 'execute input');
      const tenantId = resolveTenantId(parsed.tenantId, WHAT);
      return span('execute', tenantId, async () => {
        const stored = await step(
          tenantId,
          parsed.requestId,
          opts?.transaction,
          async (tx, current, who, forced) => {
            checkExecutor(current, who, k.clock.now());
            const audits: PendingAudit = [];
            const done = await runExecution(
              k,
              tx,
              current,
              { ...current, version: current.version + 1 },
              who,
              audits,
              forced,
            );
            return done ? { request: done, audits } : RETRY;
          },
        );
        return viewOf(stored, k.clock.now());
      });
    },

    async get(input) {
      const parsed = parseInput(RequestIdSchema, input, 'request id');
      const tenantId = resolveTenantId(parsed.tenantId, WHAT);
      return span('get', tenantId, async () => {
        const found = await k.store.get(tenantId, parsed.requestId);
        if (!found) {
          throw new ApprovalError('APPROVAL_NOT_FOUND', `No approval request ${parsed.requestId}`, {
            details: { requestId: parsed.requestId },
          });
        }
        return viewOf(found, k.clock.now());
      });
    },

    async list(query = {}) {
      const q = parseInput(ListQuerySchema, query, 'approvals query');
      const tenantId = resolveTenantId(q.tenantId, WHAT);
      return span('list', tenantId, async () => {
        const status: RequestStatus | undefined = q.status;
        const stored =
          status === undefined
            ? undefined
            : status === 'EXECUTED' || status === 'FAILED'
              ? (['APPROVED'] as const)
              : status === 'EXPIRED'
                ? (['PENDING', 'EXPIRED'] as const)
                : ([status] as const);
        const items = await k.store.list(tenantId, {
          ...(q.resource ? { resource: q.resource } : {}),
          ...(q.makerId ? { makerId: q.makerId } : {}),
          ...(q.approverId ? { decidedBy: q.approverId } : {}),
          ...(stored ? { approvalStates: stored } : {}),
          ...(q.cursor ? { beforeId: decodeCursor(q.cursor) } : {}),
          limit: q.limit,
        });
        return page(tenantId, items, q.limit, status ? (r) => r.status === status : undefined);
      });
    },

    async inbox(query = {}) {
      const q = parseInput(InboxQuerySchema, query, 'inbox query');
      const tenantId = resolveTenantId(q.tenantId, WHAT);
      const who = decider();
      return span('inbox', tenantId, async () => {
        const now = k.clock.now();
        const items = await k.store.list(tenantId, {
          decidableBy: { actorId: who.actor.id, roles: who.actor.roles, now },
          ...(q.cursor ? { beforeId: decodeCursor(q.cursor) } : {}),
          limit: q.limit,
        });
        return page(tenantId, items, q.limit, (r) => {
          try {
            approveStep(r, who, now);
            return true;
          } catch {
            return false;
          }
        });
      });
    },

    async sweep(opts = {}) {
      const allTenants =
        opts.tenantId === undefined &&
        currentTenantContext() === undefined &&
        currentSystemScope() !== undefined;
      const tenantId = allTenants ? undefined : resolveTenantId(opts.tenantId, WHAT);
      const limit = opts.limit ?? 500;
      return span('sweep', tenantId ?? '*', async () => {
        const due = await k.store.dueForSweep(k.clock.now(), limit, tenantId);
        let released = 0;
        for (const candidate of due) {
          try {
            await step(
              candidate.tenantId,
              candidate.id,
              undefined,
              async (tx, current) => {
                if (!current.unlockPending) return { request: current, audits: [] };
                await runUnlock(
                  k,
                  tx,
                  current,
                  current.approvalState === 'APPROVED'
                    ? current.executionState === 'EXECUTED'
                      ? 'executed'
                      : 'failed'
                    : current.approvalState === 'REJECTED'
                      ? 'rejected'
                      : current.approvalState === 'CANCELLED'
                        ? 'cancelled'
                        : 'expired',
                );
                const done = { ...current, unlockPending: false, version: current.version + 1 };
                return (await tx.update(done, current.version)) ? { request: done, audits: [] } : RETRY;
              },
              'return',
            );
            released++;
          } catch (error) {
            k.logger.warn(
              { requestId: candidate.id, code: (error as { code?: string }).code ?? 'UNEXPECTED' },
              'approvals: sweep of one request failed',
            );
          }
        }
        return { released };
      });
    },
  };
}
