import type { JobContext, JobContextCodec, TenantContext } from '@tenantry/core';

/** A job payload that carries its tenant context under `tenantry`. */
export interface TenantJobPayload {
  readonly tenantry: JobContext;
}

/**
 * Wrap a background job handler (cron task, queue consumer) so it runs in the tenant context captured
 * when the job was enqueued (`{ ...data, tenantry: codec.capture() }`). With a signing key on the
 * codec, a forged or tampered context is refused with `JOB_CONTEXT_INVALID` and the handler never runs.
 * @example
 * const jobs = createJobContextCodec({ signingKey });
 * const handle = withTenantJob(jobs, async (data: { invoiceId: string }, ctx) => sendInvoice(data.invoiceId));
 * worker.on('job', (payload) => handle(payload));
 */
export function withTenantJob<D extends object, R>(
  codec: JobContextCodec,
  handler: (data: D, context: TenantContext) => Promise<R> | R,
): (payload: D & TenantJobPayload) => Promise<R> {
  return async (payload) => {
    const carried = (payload as { tenantry?: unknown } | null | undefined)?.tenantry;
    return codec.restore(carried, (context) => handler(payload, context));
  };
}
