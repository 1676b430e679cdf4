import { type JsonValue, parseInput } from '@tenantry/core';
import { z } from 'zod';
import { DEFAULT_MASKED_KEYS, maskForView, maskKeySet } from './audit-record.js';
import { invalid, isObject } from './validation.js';

/** A resource an approval request acts on (`@tenantry/approvals`' `ResourceRef`). */
export interface ApprovalResourceRef {
  readonly type: string;
  readonly id: string;
}

/**
 * The part of `@tenantry/approvals`' `ApprovalEngine` the HTTP layer calls (structural, so this package
 * does not import approvals). Pass the engine itself.
 */
export interface ApprovalEngineLike {
  inbox(query: { limit?: number; cursor?: string }): Promise<unknown>;
  list(query: {
    limit?: number;
    cursor?: string;
    resource?: ApprovalResourceRef;
    status?: ApprovalStatusFilter;
  }): Promise<unknown>;
  get(input: { requestId: string }): Promise<unknown>;
  approve(input: { requestId: string; comment?: string }): Promise<unknown>;
  reject(input: { requestId: string; comment?: string }): Promise<unknown>;
  request(input: {
    action: string;
    resource: ApprovalResourceRef;
    justification: string;
    payload: JsonValue;
  }): Promise<{ readonly id: string; readonly status: string }>;
}

/** The request statuses a listing may filter on. */
export type ApprovalStatusFilter =
  | 'PENDING'
  | 'APPROVED'
  | 'EXECUTED'
  | 'FAILED'
  | 'REJECTED'
  | 'EXPIRED'
  | 'CANCELLED';

/** Query of the inbox route: `?limit=1..500&cursor=`. */
export const ApprovalPageQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(500).optional(),
  cursor: z.string().max(200).optional(),
});
/** Query of the listing route: a page, optionally one resource (`resourceType` with `resourceId`) and a status. */
export const ApprovalListQuerySchema = ApprovalPageQuerySchema.extend({
  resourceType: z.string().min(1).max(64).optional(),
  resourceId: z.string().min(1).max(256).optional(),
  status: z
    .enum(['PENDING', 'APPROVED', 'EXECUTED', 'FAILED', 'REJECTED', 'EXPIRED', 'CANCELLED'])
    .optional(),
});
/** Body of the approve and reject routes: `{ comment? }` (at most 2000 characters), or none. */
export const ApprovalDecisionBodySchema = z.object({ comment: z.string().max(2000).optional() }).optional();

/** The header a maker may state the justification in (else the body's `justification`). */
export const APPROVAL_JUSTIFICATION_HEADER = 'x-approval-justification';

/** What a route that needs approval asks for, already read from the request. */
export interface ApprovalAsk {
  /** The action registered on the engine (`item.delete`). */
  action: string;
  resource: ApprovalResourceRef;
  /** The justification; `undefined` or empty is refused by the engine with `VALIDATION_FAILED`. */
  justification: string | undefined;
  /** What the action's handler needs later (JSON). */
  payload: unknown;
}

/** The answer to a route that needs approval. */
export interface ApprovalAnswer {
  /** `202` while pending; `200` when no policy applied and the engine ran the action at once. */
  status: 200 | 202;
  /** `{basePath}/{id}`: where the request can be read. */
  location: string;
  /** The request as the engine returns it. */
  body: { readonly id: string; readonly status: string };
}

/**
 * The framework-agnostic approval routes, called by `@tenantry/express/approvals` and `@tenantry/nest`
 * so the two answer the same. Every call acts for the tenant and actor in core's context.
 */
export interface ApprovalHttp {
  /** Where the routes live, without a trailing slash. */
  readonly basePath: string;
  /** `GET {base}/inbox`: pending requests the caller may still decide. @throws `VALIDATION_FAILED` */
  inbox(query: unknown): Promise<unknown>;
  /** `GET {base}?resourceType=&resourceId=&status=`: history, per resource. @throws `VALIDATION_FAILED` */
  list(query: unknown): Promise<unknown>;
  /** `GET {base}/:id`. @throws `APPROVAL_NOT_FOUND` */
  get(id: string): Promise<unknown>;
  /** `POST {base}/:id/approve|reject` with `{ comment? }`. @throws `VALIDATION_FAILED`, the engine's codes */
  decide(decision: 'approve' | 'reject', id: string, body: unknown): Promise<unknown>;
  /** Create the request of a route that needs approval: 202 + Location, or 200 when it ran at once. */
  ask(input: ApprovalAsk): Promise<ApprovalAnswer>;
}

/** Options of {@link createApprovalHttp}. */
export interface ApprovalHttpOptions {
  /** The engine, with the app's actions and resource hooks registered. */
  engine: ApprovalEngineLike;
  /** @default '/ops/approvals' */
  basePath?: string;
  /**
   * Key names masked (`[MASKED]`) in the payloads of the requests these routes show: a payload is
   * what the handler needs (it may hold a password the action sets), and everyone who may list the
   * tenant's requests would see it. Compared ignoring case, `-`, `_` and white space. The stored
   * payload, which the handler receives, is not changed.
   * @default DEFAULT_MASKED_KEYS (password, token, secret, apiKey, iban, …)
   */
  maskKeys?: readonly string[];
}

const ENGINE_METHODS = ['inbox', 'list', 'get', 'approve', 'reject', 'request'] as const;

/**
 * The justification a maker gave: the `x-approval-justification` header, else a string `justification`
 * in the body.
 */
export function approvalJustification(header: unknown, body: unknown): string | undefined {
  if (typeof header === 'string') return header;
  if (isObject(body) && typeof body.justification === 'string') return body.justification;
  return undefined;
}

/**
 * The approval routes' logic over one engine.
 * @throws `VALIDATION_FAILED` when `options` is not `{ engine, basePath? }` (engine with the six methods,
 * basePath starting with `/`).
 * @example
 * const routes = createApprovalHttp({ engine });
 * const answer = await routes.ask({ action: 'item.delete', resource: { type: 'item', id }, justification, payload: {} });
 */
export function createApprovalHttp(
  options: ApprovalHttpOptions,
  what = 'approval routes options',
): ApprovalHttp {
  if (!isObject(options)) invalid(what, [], 'must be an object');
  const engine = options.engine as unknown;
  if (!isObject(engine)) invalid(what, ['engine'], 'must be an ApprovalEngine');
  for (const m of ENGINE_METHODS) {
    if (typeof engine[m] !== 'function') invalid(what, ['engine', m], 'must be a function');
  }
  const rawBase = options.basePath;
  if (
    rawBase !== undefined &&
    (typeof rawBase !== 'string' || !rawBase.startsWith('/') || rawBase.length > 1024)
  ) {
    invalid(what, ['basePath'], 'must be a path starting with / (at most 1024 characters)');
  }
  const rawKeys = options.maskKeys as unknown;
  if (
    rawKeys !== undefined &&
    (!Array.isArray(rawKeys) || rawKeys.length > 1024 || !rawKeys.every((k) => typeof k === 'string'))
  ) {
    invalid(what, ['maskKeys'], 'must be an array of key names (at most 1024)');
  }
  const keys = rawKeys === undefined ? DEFAULT_MASKED_KEYS : maskKeySet(rawKeys as readonly string[]);
  // A request view, or a page of them ({ items }), with each payload masked for people to see.
  const view = (v: unknown): unknown =>
    isObject(v) && Object.hasOwn(v, 'payload') ? { ...v, payload: maskForView(v.payload, keys) } : v;
  const shown = (r: unknown): unknown =>
    isObject(r) && Array.isArray(r.items) ? { ...r, items: r.items.map(view) } : view(r);
  const e = options.engine;
  const basePath = (rawBase ?? '/ops/approvals').replace(/\/+$/, '');
  const page = (q: z.output<typeof ApprovalPageQuerySchema>) => ({
    ...(q.limit !== undefined ? { limit: q.limit } : {}),
    ...(q.cursor !== undefined ? { cursor: q.cursor } : {}),
  });
  return {
    basePath,
    inbox: async (query) =>
      shown(await e.inbox(page(parseInput(ApprovalPageQuerySchema, query, 'approval inbox query')))),
    list: async (query) => {
      const q = parseInput(ApprovalListQuerySchema, query, 'approval list query');
      if ((q.resourceType === undefined) !== (q.resourceId === undefined)) {
        invalid(
          'approval list query',
          [q.resourceType === undefined ? 'resourceType' : 'resourceId'],
          'resourceType and resourceId go together',
        );
      }
      return shown(
        await e.list({
          ...page(q),
          ...(q.resourceType !== undefined && q.resourceId !== undefined
            ? { resource: { type: q.resourceType, id: q.resourceId } }
            : {}),
          ...(q.status !== undefined ? { status: q.status } : {}),
        }),
      );
    },
    get: async (id) => shown(await e.get({ requestId: String(id) })),
    decide: async (decision, id, rawBody) => {
      const body = parseInput(ApprovalDecisionBodySchema, rawBody, `approval ${decision}`);
      const input = {
        requestId: String(id),
        ...(body?.comment !== undefined ? { comment: body.comment } : {}),
      };
      return shown(await (decision === 'approve' ? e.approve(input) : e.reject(input)));
    },
    ask: async (input) => {
      const created = await e.request({
        action: input.action,
        resource: input.resource,
        justification: input.justification ?? '',
        payload: input.payload as JsonValue,
      });
      return {
        status: created.status === 'PENDING' ? 202 : 200,
        location: `${basePath}/${created.id}`,
        body: shown(created) as typeof created,
      };
    },
  };
}
