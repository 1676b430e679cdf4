import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { requireTenant, runAsTenant } from './context.js';
import { TenantryError } from './errors.js';
import { ValidationError } from './validation.js';
import { TenantContextSchema, type TenantContext } from './identity.js';

/** The tenant context as carried inside a queued job's payload. Version 1. */
export const JobContextSchema = z.object({
  v: z.literal(1),
  context: TenantContextSchema,
  /** HMAC-SHA256 (base64url) over the canonical JSON of `context`, when a signing key is configured. */
  sig: z.string().optional(),
});
export type JobContext = z.output<typeof JobContextSchema>;

/** Options for {@link createJobContextCodec}: a signing key, or the explicit test-only opt-out. */
export interface JobContextCodecOptions {
  /**
   * Key for signing serialised contexts (at least 32 bytes). `restore` refuses unsigned or wrongly
   * signed payloads, so whoever can write to the queue cannot choose a tenant (invariant T2).
   */
  signingKey?: Uint8Array;
  /**
   * Carry contexts unsigned: whoever can write to the queue can then run a job as any tenant. Only for
   * tests and demos; required explicitly, since a codec without a key is refused.
   * @default false
   */
  insecureUnsigned?: boolean;
}

/** Serialise and restore the tenant context across a queue (invariant T5). */
export interface JobContextCodec {
  /**
   * The current context as a JSON-safe value to put in a job payload.
   * @throws TenantryError `TENANT_CONTEXT_MISSING` outside a tenant context
   */
  capture(): JobContext;
  /**
   * Run `fn` in the context carried by `payload`.
   * @throws TenantryError `JOB_CONTEXT_INVALID` when the payload is malformed or its signature does not verify
   */
  restore<R>(payload: unknown, fn: (context: TenantContext) => R): R;
}

/** How deep {@link canonicalJson} descends; deeper values (or cycles) are refused, never a stack overflow. */
const MAX_CANONICAL_DEPTH = 512;

/**
 * JSON with object keys sorted, so a signature does not depend on property order.
 * @throws ValidationError `VALIDATION_FAILED` for a value nested deeper than 512 levels (or cyclic), or
 * one JSON cannot represent (a BigInt)
 */
export function canonicalJson(value: unknown): string {
  return canonical(value, 0);
}

function canonical(value: unknown, depth: number): string {
  if (depth > MAX_CANONICAL_DEPTH) {
    throw new ValidationError('canonical JSON value', [
      { path: [], message: `nested deeper than ${MAX_CANONICAL_DEPTH} levels (or cyclic)` },
    ]);
  }
  if (typeof value === 'bigint') {
    throw new ValidationError('canonical JSON value', [{ path: [], message: 'BigInt has no JSON form' }]);
  }
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out += ',';
      // A hole stays empty, as Array#map + join wrote it: signatures made before must still verify.
      if (i in value) out += canonical(value[i], depth + 1);
    }
    return `${out}]`;
  }
  // Plain loops rather than entries/filter/sort/map/join: this runs for every audit event and job.
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record).sort();
  let out = '{';
  let first = true;
  for (const k of keys) {
    const v = record[k];
    if (v === undefined) continue;
    out += `${first ? '' : ','}${JSON.stringify(k)}:${canonical(v, depth + 1)}`;
    first = false;
  }
  return `${out}}`;
}

/**
 * Create a codec that carries the tenant context into queued jobs and restores it in the worker.
 * A signing key is required: an unsigned codec would let whoever writes to the queue pick the tenant.
 * @throws ValidationError `VALIDATION_FAILED` without a key of at least 32 bytes (unless `insecureUnsigned: true`)
 * @example
 * const jobs = createJobContextCodec({ signingKey });
 * await queue.add('send', { ...data, tenantry: jobs.capture() });            // in the request
 * worker.process((job) => jobs.restore(job.data.tenantry, () => send(job)));  // in the worker
 */
export function createJobContextCodec(options?: JobContextCodecOptions): JobContextCodec {
  const key = options?.signingKey;
  const insecure = options?.insecureUnsigned === true;
  if (key === undefined && !insecure) {
    throw new ValidationError('job context codec options', [
      {
        path: ['signingKey'],
        message: 'required (at least 32 bytes); only tests may pass insecureUnsigned: true instead',
      },
    ]);
  }
  if (key !== undefined && (!(key instanceof Uint8Array) || key.length < 32)) {
    throw new ValidationError('job context codec options', [
      { path: ['signingKey'], message: 'must be a Uint8Array of at least 32 bytes' },
    ]);
  }
  const sign = (context: TenantContext): string | undefined =>
    key ? createHmac('sha256', key).update(canonicalJson(context)).digest('base64url') : undefined;

  return {
    capture(): JobContext {
      const context = requireTenant();
      const plain = JSON.parse(JSON.stringify(context)) as TenantContext;
      const sig = sign(plain);
      return sig ? { v: 1, context: plain, sig } : { v: 1, context: plain };
    },
    restore<R>(payload: unknown, fn: (context: TenantContext) => R): R {
      const parsed = JobContextSchema.safeParse(payload);
      if (!parsed.success) {
        throw new TenantryError('JOB_CONTEXT_INVALID', 'Job payload does not carry a valid tenant context');
      }
      if (key) {
        const expected = Buffer.from(sign(parsed.data.context) ?? '', 'utf8');
        const given = Buffer.from(parsed.data.sig ?? '', 'utf8');
        if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
          throw new TenantryError('JOB_CONTEXT_INVALID', 'Job context signature does not verify');
        }
      }
      const context = parsed.data.context;
      return runAsTenant(context, () => fn(requireTenant()));
    },
  };
}
