import type { JobContextCodec, TenantContext } from '@tenantry/core';
import type { TenantJobPayload } from './tenant-job.js';
import { invalid, isObject } from './validation.js';

/** A queue as BullMQ's `Queue` shapes it (structural: no queue library is imported). */
export interface QueueLike<D, O, R> {
  add(name: string, data: D & TenantJobPayload, opts?: O): Promise<R>;
}

/** A queue whose jobs carry the tenant context of the code that adds them. */
export interface TenantQueue<D, O, R> {
  /**
   * Add a job with `{ ...data, tenantry: codec.capture() }`: the current tenant context, signed.
   * @throws `TENANT_CONTEXT_MISSING` outside a tenant context; `VALIDATION_FAILED` when `data` is not an object
   */
  add(name: string, data: D, opts?: O): Promise<R>;
  /** The wrapped queue, for everything else (events, counts, close). */
  readonly queue: QueueLike<D, O, R>;
}

/** A job as BullMQ's `Job` shapes it, as far as the processor reads it. */
export interface TenantJobLike<D> {
  readonly data: D & TenantJobPayload;
}

function checkCodec(what: string, codec: unknown): void {
  if (!isObject(codec) || typeof codec.capture !== 'function' || typeof codec.restore !== 'function') {
    invalid(what, ['codec'], 'must be a JobContextCodec (createJobContextCodec)');
  }
}

/**
 * Wrap a BullMQ `Queue` (or anything with `add(name, data, opts)`) so every job it adds carries the
 * adder's tenant context, signed by core's job-context codec (invariant T5). Pair it with
 * {@link tenantProcessor} in the worker.
 * @throws `VALIDATION_FAILED` when `queue` has no `add` or `codec` is not a codec
 * @example
 * const reports = tenantQueue(new Queue('reports', { connection }), jobs);
 * app.post('/ops/reports', async (req, res) => { const job = await reports.add('monthly', { month: '2026-11' }); res.status(202).json({ id: job.id }); });
 */
export function tenantQueue<D extends object, O, R>(
  queue: QueueLike<D, O, R>,
  codec: JobContextCodec,
): TenantQueue<D, O, R> {
  const what = 'tenantQueue arguments';
  if (!isObject(queue) || typeof queue.add !== 'function') invalid(what, ['queue'], 'must have add()');
  checkCodec(what, codec);
  return {
    queue,
    add: async (name, data, opts) => {
      if (!isObject(data)) invalid('tenant job data', [], 'must be an object');
      const tenantry = codec.capture();
      return opts === undefined
        ? queue.add(name, { ...data, tenantry })
        : queue.add(name, { ...data, tenantry }, opts);
    },
  };
}

/**
 * Wrap a BullMQ worker's processor so each job runs in the tenant context carried in its data (core's
 * `runAsTenant`, restored by the codec). A job without a context, with a forged or tampered one (another
 * tenant, actor or roles than were signed), or signed with another key fails with `JOB_CONTEXT_INVALID`
 * before `processor` runs.
 * @throws `VALIDATION_FAILED` when `codec` or `processor` is malformed
 * @example
 * new Worker('reports', tenantProcessor(jobs, async (job) => buildReport(requireTenant().tenantId, job.data.month)), { connection });
 */
export function tenantProcessor<J extends { readonly data: object }, R>(
  codec: JobContextCodec,
  processor: (job: J, context: TenantContext) => Promise<R> | R,
): (job: J) => Promise<R> {
  const what = 'tenantProcessor arguments';
  checkCodec(what, codec);
  if (typeof processor !== 'function') invalid(what, ['processor'], 'must be a function');
  return async (job) => {
    const data: unknown = isObject(job) ? job.data : undefined;
    const carried = isObject(data) ? data.tenantry : undefined;
    return codec.restore(carried, (context) => processor(job, context));
  };
}
