import type { JobContextCodec, TenantContext } from '@tenantry/core';
import { type TenantJobPayload, withTenantJob as withTenantJobCore } from '@tenantry/http';

export type { TenantJobPayload };

/**
 * Wrap a background job handler (cron task, queue consumer) so it runs in the tenant context captured
 * when the job was enqueued with `{ ...data, tenantry: codec.capture() }`. With a signing key on the
 * codec (core's `createJobContextCodec`), a forged or tampered context is refused with
 * `JOB_CONTEXT_INVALID` and the handler never runs.
 * @example
 * const jobs = createJobContextCodec({ signingKey });
 * app.post('/ops/reports', (req, res) => { queue.push({ month: req.body.month, tenantry: jobs.capture() }); res.sendStatus(202); });
 * const run = withTenantJob(jobs, async (job: { month: string }) => buildReport(job.month));
 */
export function withTenantJob<D extends object, R>(
  codec: JobContextCodec,
  handler: (data: D, context: TenantContext) => Promise<R> | R,
): (payload: D & TenantJobPayload) => Promise<R> {
  return withTenantJobCore(codec, handler);
}
