import type {
  ApprovalStore,
  ApprovalStoreCapabilities,
  ApprovalStoreTx,
  InsertOutcome,
  RequestQuery,
} from '../approval-store.js';
import type { PolicySet } from '../policy.js';
import { type ApprovalRequest, decidersOf } from '../request.js';

const clone = <T>(v: T): T => structuredClone(v);
const pendingKey = (r: ApprovalRequest): string =>
  JSON.stringify([r.tenantId, r.action, r.resource.type, r.resource.id]);

/** Whether `r` matches every filter of `q` (shared by the memory store and tests). */
export function matchesQuery(r: ApprovalRequest, q: RequestQuery): boolean {
  if (q.resource && (r.resource.type !== q.resource.type || r.resource.id !== q.resource.id)) return false;
  if (q.makerId !== undefined && r.makerId !== q.makerId) return false;
  if (q.decidedBy !== undefined && !decidersOf(r).includes(q.decidedBy)) return false;
  if (q.approvalStates && !q.approvalStates.includes(r.approvalState)) return false;
  if (q.beforeId !== undefined && !(r.id < q.beforeId)) return false;
  if (q.decidableBy) {
    const d = q.decidableBy;
    const policy = r.rules.policy;
    if (r.approvalState !== 'PENDING' || !policy) return false;
    if (Date.parse(r.expiresAt) <= d.now.getTime()) return false;
    if (!d.roles.some((role) => policy.approverRoles.includes(role))) return false;
    if (r.makerId === d.actorId && !policy.allowMakerApproval) return false;
    if (decidersOf(r).includes(d.actorId)) return false;
  }
  return true;
}

/**
 * The in-memory store: a real implementation with the same semantics as the others (it passes the same
 * conformance suite), for tests, quick starts and single-process apps. Every write is a compare-and-set
 * on the request's version, done synchronously, so concurrent calls in one process cannot interleave
 * inside it. Not transactional: handlers get an idempotency key and a lease-based claim.
 * @example const store = new MemoryApprovalStore();
 */
export class MemoryApprovalStore implements ApprovalStore {
  readonly capabilities: ApprovalStoreCapabilities = Object.freeze({
    transactional: false,
    policyVersionCheck: true,
  });
  readonly #requests = new Map<string, ApprovalRequest>();
  readonly #pending = new Map<string, string>();
  readonly #policies = new Map<string, PolicySet[]>();
  readonly #tx: ApprovalStoreTx;

  constructor(_options: Record<string, never> = {}) {
    const key = (tenantId: string, id: string) => `${tenantId}\u0000${id}`;
    this.#tx = {
      handle: undefined,
      insert: async (request, options): Promise<InsertOutcome> => {
        // Synchronous from here on: the policy check and the insert cannot interleave with other calls.
        const expected = options?.expectedPolicyVersion;
        if (expected !== undefined) {
          const versions = this.#policies.get(request.tenantId);
          if ((versions?.[versions.length - 1]?.version ?? 0) !== expected)
            return { inserted: false, stalePolicy: true };
        }
        if (request.approvalState === 'PENDING') {
          const existing = this.#pending.get(pendingKey(request));
          if (existing !== undefined)
            return { inserted: false, pending: clone(this.#requests.get(existing)!) };
          this.#pending.set(pendingKey(request), key(request.tenantId, request.id));
        }
        this.#requests.set(key(request.tenantId, request.id), clone(request));
        return { inserted: true };
      },
      get: async (tenantId, id) => {
        const r = this.#requests.get(key(tenantId, id));
        return r ? clone(r) : null;
      },
      update: async (next, expectedVersion) => {
        const k = key(next.tenantId, next.id);
        const current = this.#requests.get(k);
        if (!current || current.version !== expectedVersion) return false;
        if (current.approvalState === 'PENDING' && next.approvalState !== 'PENDING')
          this.#pending.delete(pendingKey(current));
        this.#requests.set(k, clone(next));
        return true;
      },
    };
  }

  async unitOfWork<T>(fn: (tx: ApprovalStoreTx) => Promise<T>): Promise<T> {
    return fn(this.#tx);
  }

  get(tenantId: string, id: string): Promise<ApprovalRequest | null> {
    return this.#tx.get(tenantId, id);
  }

  async list(tenantId: string, query: RequestQuery): Promise<ApprovalRequest[]> {
    const out: ApprovalRequest[] = [];
    for (const r of this.#requests.values())
      if (r.tenantId === tenantId && matchesQuery(r, query)) out.push(r);
    out.sort((a, b) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
    return out.slice(0, query.limit).map(clone);
  }

  async dueForSweep(now: Date, limit: number, tenantId: string | undefined): Promise<ApprovalRequest[]> {
    const out: ApprovalRequest[] = [];
    for (const r of this.#requests.values()) {
      if (tenantId !== undefined && r.tenantId !== tenantId) continue;
      const expired = r.approvalState === 'PENDING' && Date.parse(r.expiresAt) <= now.getTime();
      if (expired || r.unlockPending) out.push(clone(r));
      if (out.length >= limit) break;
    }
    return out;
  }

  async latestPolicySet(tenantId: string): Promise<PolicySet | null> {
    const versions = this.#policies.get(tenantId);
    return versions && versions.length > 0 ? clone(versions[versions.length - 1]!) : null;
  }

  async insertPolicySet(set: PolicySet): Promise<boolean> {
    const versions = this.#policies.get(set.tenantId) ?? [];
    if (versions.some((v) => v.version === set.version)) return false;
    versions.push(clone(set));
    versions.sort((a, b) => a.version - b.version);
    this.#policies.set(set.tenantId, versions);
    return true;
  }
}
