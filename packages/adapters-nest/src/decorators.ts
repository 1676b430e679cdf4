import {
  type ExecutionContext,
  SetMetadata,
  UseInterceptors,
  applyDecorators,
  createParamDecorator,
} from '@nestjs/common';
import { type Actor, type JobContextCodec, TenantryError, ValidationError } from '@tenantry/core';
import { registeredJobCodec } from './job-codec-registry.js';
import { tenantryOf } from './request-state.js';
import { FailClosedAuditInterceptor } from './tenancy-interceptor.js';

/** @internal Metadata keys. */
export const ROLES_KEY = 'tenantry:roles';
export const SEGMENT_KEY = 'tenantry:segment';
export const PUBLIC_KEY = 'tenantry:public';
export const AUDITED_KEY = 'tenantry:audited';

/** Only actors holding one of `roles` reach the handler (`PERMISSION_DENIED` otherwise). */
export const Roles = (...roles: string[]) => SetMetadata(ROLES_KEY, roles);

/** The handler belongs to an API segment (`system`, `backOffice`, `operations`): its role set applies. */
export const Segment = (segment: string) => SetMetadata(SEGMENT_KEY, segment);

/** Served without credentials (no token, no tenant context). */
export const Public = () => SetMetadata(PUBLIC_KEY, true);

/** Options of {@link Audited}. */
export interface AuditedOptions {
  /** The resource type acted on (`invoice`); its id is the route parameter `idParam`. */
  resource?: string;
  /** @default 'id' */
  idParam?: string;
  /** Write the audit event before the response; if that fails, answer `HTTP_AUDIT_UNAVAILABLE` (503). @default false */
  failClosed?: boolean;
}

/** Describe a mutating handler's audit event (every POST/PUT/PATCH/DELETE is audited without it). */
export const Audited = (options: AuditedOptions = {}) => {
  checkAuditedOptions(options);
  return options.failClosed
    ? applyDecorators(SetMetadata(AUDITED_KEY, options), UseInterceptors(FailClosedAuditInterceptor))
    : SetMetadata(AUDITED_KEY, options);
};

function checkAuditedOptions(options: unknown): asserts options is AuditedOptions {
  const fail = (path: PropertyKey[], message: string): never => {
    throw new ValidationError('@Audited() options', [{ path, message }]);
  };
  if (typeof options !== 'object' || options === null || Array.isArray(options))
    fail([], 'must be an object');
  const o = options as Record<string, unknown>;
  for (const key of ['resource', 'idParam'] as const) {
    if (o[key] !== undefined && (typeof o[key] !== 'string' || o[key] === '')) {
      fail([key], 'must be a non-empty string');
    }
  }
  if (o.failClosed !== undefined && typeof o.failClosed !== 'boolean')
    fail(['failClosed'], 'must be a boolean');
}

const requestOf = (ctx: ExecutionContext): object => ctx.switchToHttp().getRequest<object>();

/** The verified tenant id of the request (`undefined` for platform staff and public routes). */
export const CurrentTenant = createParamDecorator(
  (_data: unknown, ctx: ExecutionContext): string | undefined =>
    tenantryOf(requestOf(ctx))?.identity?.tenantId,
);

/** The verified actor of the request. */
export const CurrentActor = createParamDecorator(
  (_data: unknown, ctx: ExecutionContext): Actor | undefined => tenantryOf(requestOf(ctx))?.identity?.actor,
);

/**
 * Run a job handler (cron task, queue consumer) in the tenant context carried by its first argument's
 * `tenantry` field (captured with `codec.capture()` when the job was enqueued). A forged or tampered
 * context is refused with `JOB_CONTEXT_INVALID` before the handler runs. Uses `codec`, else the
 * module's `jobCodec`.
 */
export function WithTenant(codec?: JobContextCodec): MethodDecorator {
  return (_target, _key, descriptor) => {
    const original = descriptor.value as unknown as (...args: unknown[]) => unknown;
    const wrapped = function (this: unknown, ...args: unknown[]): unknown {
      const jobs = codec ?? registeredJobCodec();
      if (!jobs) {
        throw new TenantryError(
          'VALIDATION_FAILED',
          '@WithTenant() needs a codec: pass one, or set jobCodec in TenancyModule.forRoot',
        );
      }
      const payload = args[0] as { tenantry?: unknown } | undefined;
      return jobs.restore(payload?.tenantry, () => original.apply(this, args));
    };
    (descriptor as PropertyDescriptor).value = wrapped;
    return descriptor;
  };
}
