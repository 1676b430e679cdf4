import type { ApprovalEngine, ApprovalRequestView, ResourceRef } from '@tenantry/approvals';
import { type JsonValue, ValidationError, parseInput } from '@tenantry/core';
import { type Request, type RequestHandler, Router } from 'express';
import { z } from 'zod';

/** Options of {@link approvalRoutes}. */
export interface ApprovalRoutesOptions {
  /** The engine, with the actions and resource hooks of the app registered on it. */
  engine: ApprovalEngine;
  /**
   * Where the request routes live; the `Location` of a created request points under it. Put it under
   * an API segment your approvers reach (`/ops` by default holds every tenant role).
   * @default '/ops/approvals'
   */
  basePath?: string;
}

/** How a route that needs approval describes the action it asks for. */
export interface RequireApprovalSpec {
  /** The action name registered on the engine (`engine.registerAction`), e.g. `item.delete`. */
  action: string;
  /** The resource the action acts on (it is soft-locked while pending). */
  resource: (req: Request) => ResourceRef;
  /**
   * Why the maker asks, shown to approvers.
   * @default the `x-approval-justification` header, else the body's `justification`
   */
  justification?: (req: Request) => string | undefined;
  /** What the action's handler needs to run later (JSON). @default `{ params, body }` of the request */
  payload?: (req: Request) => unknown;
}

/** The routes and the route marker of four-eyes approvals, over one `@tenantry/approvals` engine. */
export interface ExpressApprovals {
  /**
   * `GET {base}/inbox` (pending requests the caller may still decide), `GET {base}?resourceType=&resourceId=&status=`
   * (history, per resource), `GET {base}/:id`, `POST {base}/:id/approve`, `POST {base}/:id/reject`
   * (`{ comment? }`). Mount after `tenancy()`: every call acts for the tenant and actor in context.
   */
  readonly router: Router;
  /**
   * Mark a route as requiring approval: instead of running its handler, it creates an approval request
   * and answers `202 Accepted` with the request and `Location: {base}/{id}`. The action runs once, through
   * the engine's registered handler, when the request is approved (by someone other than the maker).
   * When no policy applies to the action for the tenant, the engine runs it at once: the answer is then
   * `200` with the executed request.
   */
  require(spec: RequireApprovalSpec): RequestHandler;
}

const PageQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(500).optional(),
  cursor: z.string().max(200).optional(),
});
const ListQuerySchema = PageQuerySchema.extend({
  resourceType: z.string().min(1).max(64).optional(),
  resourceId: z.string().min(1).max(256).optional(),
  status: z
    .enum(['PENDING', 'APPROVED', 'EXECUTED', 'FAILED', 'REJECTED', 'EXPIRED', 'CANCELLED'])
    .optional(),
});
const DecisionBodySchema = z.object({ comment: z.string().max(2000).optional() }).optional();

const JUSTIFICATION_HEADER = 'x-approval-justification';

const ENGINE_METHODS = ['inbox', 'list', 'get', 'approve', 'reject', 'request'] as const;

function fail(what: string, path: PropertyKey[], message: string): never {
  throw new ValidationError(what, [{ path, message }]);
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function checkOptions(options: unknown): asserts options is ApprovalRoutesOptions {
  const what = 'approvalRoutes options';
  if (!isObject(options)) fail(what, [], 'must be an object');
  const engine = options.engine;
  if (!isObject(engine)) fail(what, ['engine'], 'must be an ApprovalEngine');
  for (const m of ENGINE_METHODS) {
    if (typeof engine[m] !== 'function') fail(what, ['engine', m], 'must be a function');
  }
  const base = options.basePath;
  if (base !== undefined && (typeof base !== 'string' || !base.startsWith('/') || base.length > 1024)) {
    fail(what, ['basePath'], 'must be a path starting with / (at most 1024 characters)');
  }
}

function checkSpec(spec: unknown): asserts spec is RequireApprovalSpec {
  const what = 'approval route spec';
  if (!isObject(spec)) fail(what, [], 'must be an object');
  if (typeof spec.action !== 'string' || spec.action === '')
    fail(what, ['action'], 'must be a non-empty string');
  if (typeof spec.resource !== 'function') fail(what, ['resource'], 'must be a function');
  for (const key of ['justification', 'payload'] as const) {
    if (spec[key] !== undefined && typeof spec[key] !== 'function') fail(what, [key], 'must be a function');
  }
}

/**
 * Four-eyes approvals over HTTP: routes to list, read, approve and reject requests, and a marker for
 * routes whose action needs approval.
 * @example
 * const approvals = approvalRoutes({ engine });
 * app.use(t);
 * app.delete('/ops/assets/:id', approvals.require({ action: 'asset.delete', resource: (req) => ({ type: 'asset', id: String(req.params.id) }) }));
 * app.use(approvals.router);
 * app.use(t.errors);
 */
export function approvalRoutes(options: ApprovalRoutesOptions): ExpressApprovals {
  checkOptions(options);
  const { engine } = options;
  const base = (options.basePath ?? '/ops/approvals').replace(/\/+$/, '');
  const router = Router();
  const page = (q: z.output<typeof PageQuerySchema>) => ({
    ...(q.limit !== undefined ? { limit: q.limit } : {}),
    ...(q.cursor !== undefined ? { cursor: q.cursor } : {}),
  });

  router.get(`${base}/inbox`, async (req, res) => {
    const q = parseInput(PageQuerySchema, req.query, 'approval inbox query');
    res.json(await engine.inbox(page(q)));
  });
  router.get(base, async (req, res) => {
    const q = parseInput(ListQuerySchema, req.query, 'approval list query');
    if ((q.resourceType === undefined) !== (q.resourceId === undefined)) {
      parseInput(
        z.object({ resourceType: z.string(), resourceId: z.string() }),
        { resourceType: q.resourceType, resourceId: q.resourceId },
        'approval list query',
      );
    }
    res.json(
      await engine.list({
        ...page(q),
        ...(q.resourceType !== undefined && q.resourceId !== undefined
          ? { resource: { type: q.resourceType, id: q.resourceId } }
          : {}),
        ...(q.status !== undefined ? { status: q.status } : {}),
      }),
    );
  });
  router.get(`${base}/:id`, async (req, res) => {
    res.json(await engine.get({ requestId: String(req.params.id) }));
  });
  for (const decision of ['approve', 'reject'] as const) {
    router.post(`${base}/:id/${decision}`, async (req, res) => {
      const body = parseInput(DecisionBodySchema, req.body, `approval ${decision}`);
      const input = {
        requestId: String(req.params.id),
        ...(body?.comment !== undefined ? { comment: body.comment } : {}),
      };
      res.json(await (decision === 'approve' ? engine.approve(input) : engine.reject(input)));
    });
  }

  return {
    router,
    require(spec) {
      checkSpec(spec);
      return async (req, res) => {
        const body: unknown = req.body;
        const fromBody =
          body !== null &&
          typeof body === 'object' &&
          typeof (body as { justification?: unknown }).justification === 'string'
            ? (body as { justification: string }).justification
            : undefined;
        const justification = spec.justification
          ? spec.justification(req)
          : (req.get(JUSTIFICATION_HEADER) ?? fromBody);
        const created: ApprovalRequestView = await engine.request({
          action: spec.action,
          resource: spec.resource(req),
          justification: justification ?? '',
          payload: (spec.payload
            ? spec.payload(req)
            : { params: { ...req.params }, body: body ?? null }) as JsonValue,
        });
        res.setHeader('location', `${base}/${created.id}`);
        res.status(created.status === 'PENDING' ? 202 : 200).json(created);
      };
    },
  };
}
