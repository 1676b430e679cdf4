import {
  type ExecutionContext,
  SetMetadata,
  UseInterceptors,
  applyDecorators,
  createParamDecorator,
} from '@nestjs/common';
import { type Actor, type JobContextCodec, TenantryError, ValidationError } from '@tenantry/core';
import { APPROVAL_KEY, ApprovalInterceptor, type RequiresApprovalSpec } from './approval.interceptor.js';
import { registeredJobCodec } from './job-codec-registry.js';
import { tenantryOf } from './request-state.js';
import { FailClosedAuditInterceptor } from './tenancy.interceptor.js';

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
  /**
   * The body's DTO class, whose `@Pii()` fields are masked in the audit event.
   * @default the `@Body()` parameter's type, when decorator metadata was emitted
   */
  body?: abstract new (
    ...args: never[]
  ) => unknown;
  /** Further dotted body paths to mask (`card.number`), beside the module's `auditBody.maskPaths`. */
  maskPaths?: string[];
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
  if (o.body !== undefined && typeof o.body !== 'function') fail(['body'], 'must be a class');
  if (
    o.maskPaths !== undefined &&
    (!Array.isArray(o.maskPaths) || !o.maskPaths.every((p) => typeof p === 'string' && p !== ''))
  ) {
    fail(['maskPaths'], 'must be an array of non-empty strings');
  }
}

/**
 * The handler's action needs four-eyes approval: instead of running the handler, the request creates an
 * approval request and answers `202 Accepted` with it and `Location: {basePath}/{id}`; the engine's
 * registered action runs once, when someone other than the maker approves (`200` at once when no policy
 * applies to the action for the tenant). Needs `TenancyApprovalsModule.forRoot({ engine })`.
 * @throws `VALIDATION_FAILED` when `spec` is malformed (at decoration time); at request time the engine's
 * codes (`VALIDATION_FAILED` without a justification, `APPROVAL_RESOURCE_LOCKED`, …)
 * @example
 * // @Delete('items/:id') @RequiresApproval({ action: 'item.delete', resource: 'item' }) remove() {}
 */
export const RequiresApproval = (spec: RequiresApprovalSpec) => {
  checkApprovalSpec(spec);
  return applyDecorators(SetMetadata(APPROVAL_KEY, spec), UseInterceptors(ApprovalInterceptor));
};

function checkApprovalSpec(spec: unknown): asserts spec is RequiresApprovalSpec {
  const fail = (path: PropertyKey[], message: string): never => {
    throw new ValidationError('@RequiresApproval() spec', [{ path, message }]);
  };
  if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) fail([], 'must be an object');
  const s = spec as Record<string, unknown>;
  if (typeof s.action !== 'string' || s.action === '') fail(['action'], 'must be a non-empty string');
  if (typeof s.resource !== 'function' && (typeof s.resource !== 'string' || s.resource === ''))
    fail(['resource'], 'must be a resource type or a function of the request');
  if (s.idParam !== undefined && (typeof s.idParam !== 'string' || s.idParam === ''))
    fail(['idParam'], 'must be a non-empty string');
  for (const key of ['justification', 'payload'] as const) {
    if (s[key] !== undefined && typeof s[key] !== 'function') fail([key], 'must be a function');
  }
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
 * `tenantry` field (or, for a BullMQ `Job`, by `job.data.tenantry`, as `tenantQueue` adds it) (captured with `codec.capture()` when the job was enqueued). A forged or tampered
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
      // A payload carrying `tenantry`, or a BullMQ job whose `data` carries it (WorkerHost.process(job)).
      const first = args[0] as { tenantry?: unknown; data?: { tenantry?: unknown } } | undefined;
      const carried =
        first !== null && typeof first === 'object'
          ? first.tenantry !== undefined
            ? first.tenantry
            : first.data !== null && typeof first.data === 'object'
              ? first.data.tenantry
              : undefined
          : undefined;
      return jobs.restore(carried, () => original.apply(this, args));
    };
    (descriptor as PropertyDescriptor).value = wrapped;
    return descriptor;
  };
}
