import type { ApprovalEngine, ResourceRef } from '@tenantry/approvals';
import { ValidationError } from '@tenantry/core';
import { APPROVAL_JUSTIFICATION_HEADER, approvalJustification, createApprovalHttp } from '@tenantry/http';
import { type Request, type RequestHandler, Router } from 'express';

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
  /**
   * Key names masked in the payloads these routes show (the stored payload, which the handler gets,
   * is not changed); compared ignoring case, `-`, `_` and white space.
   * @default @tenantry/http's DEFAULT_MASKED_KEYS (password, token, secret, apiKey, iban, …)
   */
  maskKeys?: readonly string[];
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

function checkSpec(spec: unknown): asserts spec is RequireApprovalSpec {
  const what = 'approval route spec';
  const fail = (path: PropertyKey[], message: string): never => {
    throw new ValidationError(what, [{ path, message }]);
  };
  if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) fail([], 'must be an object');
  const s = spec as Record<string, unknown>;
  if (typeof s.action !== 'string' || s.action === '') fail(['action'], 'must be a non-empty string');
  if (typeof s.resource !== 'function') fail(['resource'], 'must be a function');
  for (const key of ['justification', 'payload'] as const) {
    if (s[key] !== undefined && typeof s[key] !== 'function') fail([key], 'must be a function');
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
  // The route logic is @tenantry/http's, shared with @tenantry/nest.
  const routes = createApprovalHttp(options as ApprovalRoutesOptions, 'approvalRoutes options');
  const base = routes.basePath;
  const router = Router();
  router.get(`${base}/inbox`, async (req, res) => {
    res.json(await routes.inbox(req.query));
  });
  router.get(base, async (req, res) => {
    res.json(await routes.list(req.query));
  });
  router.get(`${base}/:id`, async (req, res) => {
    res.json(await routes.get(String(req.params.id)));
  });
  for (const decision of ['approve', 'reject'] as const) {
    router.post(`${base}/:id/${decision}`, async (req, res) => {
      res.json(await routes.decide(decision, String(req.params.id), req.body));
    });
  }

  return {
    router,
    require(spec) {
      checkSpec(spec);
      return async (req, res) => {
        const body: unknown = req.body;
        const answer = await routes.ask({
          action: spec.action,
          resource: spec.resource(req),
          justification: spec.justification
            ? spec.justification(req)
            : approvalJustification(req.get(APPROVAL_JUSTIFICATION_HEADER), body),
          payload: spec.payload ? spec.payload(req) : { params: { ...req.params }, body: body ?? null },
        });
        res.setHeader('location', answer.location);
        res.status(answer.status).json(answer.body);
      };
    },
  };
}
