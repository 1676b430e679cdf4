import { ValidationError, isTenantryError } from '@tenantry/core';
import type { Collection, Db, Filter } from 'mongodb';
import type {
  ApprovalStore,
  ApprovalStoreCapabilities,
  ApprovalStoreTx,
  InsertOutcome,
  RequestQuery,
} from '../approval-store.js';
import { ApprovalError } from '../errors.js';
import type { PolicySet } from '../policy.js';
import { type ApprovalRequest, decidersOf } from '../request.js';

/** Options of {@link MongoApprovalStore}. */
export interface MongoApprovalStoreOptions {
  /** The application's database handle (the client is not owned: the store never closes it). */
  db: Db;
}

/** The request collection. */
export const MONGO_REQUESTS = 'tenantry_approval_requests';
/** The policy-set collection. */
export const MONGO_POLICIES = 'tenantry_approval_policies';

interface RequestDoc {
  _id: string;
  tenantId: string;
  id: string;
  action: string;
  resourceType: string;
  resourceId: string;
  makerId: string;
  approvalState: string;
  executionState: string;
  expiresAt: Date;
  approverRoles: string[];
  makerMayApprove: boolean;
  decidedBy: string[];
  unlockPending: boolean;
  version: number;
  /** The request (without version) as JSON text: payloads may hold keys MongoDB restricts. */
  body: string;
}
interface PolicyDoc {
  _id: string;
  tenantId: string;
  version: number;
  body: string;
  createdAt: Date;
  createdBy: string;
}

function toDoc(r: ApprovalRequest): RequestDoc {
  const { version, ...rest } = r;
  return {
    _id: `${r.tenantId}:${r.id}`,
    tenantId: r.tenantId,
    id: r.id,
    action: r.action,
    resourceType: r.resource.type,
    resourceId: r.resource.id,
    makerId: r.makerId,
    approvalState: r.approvalState,
    executionState: r.executionState,
    expiresAt: new Date(r.expiresAt),
    approverRoles: [...(r.rules.policy?.approverRoles ?? [])],
    makerMayApprove: r.rules.policy?.allowMakerApproval ?? false,
    decidedBy: decidersOf(r),
    unlockPending: r.unlockPending,
    version,
    body: JSON.stringify(rest),
  };
}

const fromDoc = (d: RequestDoc): ApprovalRequest => ({
  ...(JSON.parse(d.body) as ApprovalRequest),
  version: d.version,
});

const UNAVAILABLE = new Set([
  'MongoServerSelectionError',
  'MongoNetworkError',
  'MongoNetworkTimeoutError',
  'MongoTopologyClosedError',
]);

async function guard<T>(op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (error) {
    if (isTenantryError(error)) throw error;
    if (UNAVAILABLE.has((error as Error | null)?.name ?? '')) {
      throw new ApprovalError('APPROVAL_STORE_UNAVAILABLE', 'MongoDB could not be reached', { cause: error });
    }
    throw new ApprovalError('APPROVAL_STORE_FAILED', 'MongoDB refused an approvals operation', {
      cause: error,
    });
  }
}

// A Db by shape (an object with collection()), checked before anything is read from it.
function checkDb(db: unknown, what: string): void {
  if (typeof (db as { collection?: unknown } | null | undefined)?.collection !== 'function') {
    throw new ValidationError(what, [{ path: ['db'], message: 'must be a Db from the official driver' }]);
  }
}

const isDuplicateKey = (e: unknown): boolean => (e as { code?: number } | null)?.code === 11000;

/**
 * Create the indexes of the MongoDB store, among them the partial unique index that makes a second
 * pending request for the same action and resource impossible. Run it once at deploy time.
 * @example await ensureApprovalsIndexes(client.db('app'));
 */
export async function ensureApprovalsIndexes(db: Db): Promise<void> {
  checkDb(db, 'mongo database');
  const requests = db.collection<RequestDoc>(MONGO_REQUESTS);
  await requests.createIndex(
    { tenantId: 1, action: 1, resourceType: 1, resourceId: 1 },
    { name: 'one_pending', unique: true, partialFilterExpression: { approvalState: 'PENDING' } },
  );
  await requests.createIndex({ tenantId: 1, id: -1 }, { name: 'by_tenant' });
  await requests.createIndex(
    { tenantId: 1, resourceType: 1, resourceId: 1, id: -1 },
    { name: 'by_resource' },
  );
  await requests.createIndex({ tenantId: 1, makerId: 1, id: -1 }, { name: 'by_maker' });
  await requests.createIndex({ tenantId: 1, decidedBy: 1, id: -1 }, { name: 'by_decider' });
  await requests.createIndex(
    { tenantId: 1, expiresAt: 1 },
    { name: 'pending_by_deadline', partialFilterExpression: { approvalState: 'PENDING' } },
  );
  await requests.createIndex(
    { unlockPending: 1 },
    { name: 'unlock_pending', partialFilterExpression: { unlockPending: true } },
  );
  await db
    .collection<PolicyDoc>(MONGO_POLICIES)
    .createIndex({ tenantId: 1, version: -1 }, { name: 'by_tenant_version' });
}

/**
 * The MongoDB store (official driver). Every transition is one conditional `updateOne` matching the
 * request's version; a partial unique index refuses a second pending request. Not transactional: the
 * engine claims an execution with a lease and hands the handler an idempotency key (at-least-once call,
 * at-most-once EXECUTED mark). Works on a standalone server, a replica set, and a sharded cluster with
 * shard key `{ tenantId: 1, id: 1 }`. Run {@link ensureApprovalsIndexes} first.
 * @example const store = new MongoApprovalStore({ db: client.db('app') });
 */
export class MongoApprovalStore implements ApprovalStore {
  readonly capabilities: ApprovalStoreCapabilities = Object.freeze({ transactional: false });
  readonly #requests: Collection<RequestDoc>;
  readonly #policies: Collection<PolicyDoc>;
  readonly #tx: ApprovalStoreTx;

  constructor(options: MongoApprovalStoreOptions) {
    checkDb((options as { db?: unknown } | null | undefined)?.db, 'mongo approval store options');
    this.#requests = options.db.collection<RequestDoc>(MONGO_REQUESTS);
    this.#policies = options.db.collection<PolicyDoc>(MONGO_POLICIES);
    this.#tx = {
      handle: undefined,
      insert: (request) => guard(() => this.#insert(request)),
      get: (tenantId, id) => this.get(tenantId, id),
      update: (next, expectedVersion) =>
        guard(async () => {
          const { _id, ...fields } = toDoc(next);
          const res = await this.#requests.updateOne(
            { _id, tenantId: next.tenantId, version: expectedVersion },
            { $set: fields },
          );
          return res.matchedCount === 1;
        }),
    };
  }

  async #insert(request: ApprovalRequest): Promise<InsertOutcome> {
    try {
      await this.#requests.insertOne(toDoc(request));
      return { inserted: true };
    } catch (error) {
      if (!isDuplicateKey(error)) throw error;
    }
    const pending = await this.#requests.findOne({
      tenantId: request.tenantId,
      action: request.action,
      resourceType: request.resource.type,
      resourceId: request.resource.id,
      approvalState: 'PENDING',
    });
    if (!pending) {
      throw new ApprovalError('APPROVAL_CONFLICT', 'A pending request was decided meanwhile; retry', {
        details: { action: request.action },
      });
    }
    return { inserted: false, pending: fromDoc(pending) };
  }

  async unitOfWork<T>(fn: (tx: ApprovalStoreTx) => Promise<T>): Promise<T> {
    return fn(this.#tx);
  }

  get(tenantId: string, id: string): Promise<ApprovalRequest | null> {
    return guard(async () => {
      const d = await this.#requests.findOne({ _id: `${tenantId}:${id}`, tenantId });
      return d ? fromDoc(d) : null;
    });
  }

  list(tenantId: string, query: RequestQuery): Promise<ApprovalRequest[]> {
    const filter: Filter<RequestDoc> = { tenantId };
    const and: Filter<RequestDoc>[] = [];
    if (query.resource)
      Object.assign(filter, { resourceType: query.resource.type, resourceId: query.resource.id });
    if (query.makerId !== undefined) filter.makerId = query.makerId;
    if (query.decidedBy !== undefined) filter.decidedBy = query.decidedBy;
    if (query.approvalStates) filter.approvalState = { $in: [...query.approvalStates] };
    if (query.beforeId !== undefined) filter.id = { $lt: query.beforeId };
    if (query.decidableBy) {
      const d = query.decidableBy;
      and.push(
        { approvalState: 'PENDING', expiresAt: { $gt: d.now } },
        { approverRoles: { $in: [...d.roles] } },
        { decidedBy: { $ne: d.actorId } },
        { $or: [{ makerId: { $ne: d.actorId } }, { makerMayApprove: true }] },
      );
    }
    if (and.length > 0) filter.$and = and;
    return guard(async () =>
      (await this.#requests.find(filter).sort({ id: -1 }).limit(query.limit).toArray()).map(fromDoc),
    );
  }

  dueForSweep(now: Date, limit: number, tenantId: string | undefined): Promise<ApprovalRequest[]> {
    const filter: Filter<RequestDoc> = {
      $or: [{ approvalState: 'PENDING', expiresAt: { $lte: now } }, { unlockPending: true }],
      ...(tenantId === undefined ? {} : { tenantId }),
    };
    return guard(async () => (await this.#requests.find(filter).limit(limit).toArray()).map(fromDoc));
  }

  latestPolicySet(tenantId: string): Promise<PolicySet | null> {
    return guard(async () => {
      const d = await this.#policies.find({ tenantId }).sort({ version: -1 }).limit(1).next();
      if (!d) return null;
      const body = JSON.parse(d.body) as Pick<PolicySet, 'policies' | 'bypass'>;
      return {
        tenantId,
        version: d.version,
        policies: body.policies,
        bypass: body.bypass,
        createdAt: d.createdAt,
        createdBy: d.createdBy,
      };
    });
  }

  insertPolicySet(set: PolicySet): Promise<boolean> {
    return guard(async () => {
      try {
        await this.#policies.insertOne({
          _id: `${set.tenantId}:${set.version}`,
          tenantId: set.tenantId,
          version: set.version,
          body: JSON.stringify({ policies: set.policies, bypass: set.bypass }),
          createdAt: set.createdAt,
          createdBy: set.createdBy,
        });
        return true;
      } catch (error) {
        if (isDuplicateKey(error)) return false;
        throw error;
      }
    });
  }
}
