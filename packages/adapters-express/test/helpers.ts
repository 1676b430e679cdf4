import {
  type AuditPort,
  MemoryAuditPort,
  createGatekeeper,
  createTenantDirectory,
  directConfigSource,
  noopAuditPort,
  parseInput,
  requireTenant,
  runAsSystem,
} from '@tenantry/core';
import { MemoryTenantStore } from '@tenantry/core/memory';
import express, { type Express } from 'express';
import { type JWTPayload, SignJWT } from 'jose';
import { z } from 'zod';
import { type TenancyMiddleware, type TenancyOptions, audited, requireRoles, tenancy } from '../src/index.js';

export const SECRET = 'a-shared-secret-of-at-least-32-bytes!';
export const ISSUER = 'https://idp.test/';
export const AUDIENCE = 'tenantry-api';
export const AUTH = { key: { secret: SECRET }, issuer: ISSUER, audience: AUDIENCE } as const;

export interface MintOptions {
  tenantId?: string | null;
  sub?: string;
  roles?: string[];
  act?: Record<string, unknown>;
  iss?: string;
  aud?: string;
  expiresIn?: string | number;
  secret?: string;
}

export async function mint(o: MintOptions = {}): Promise<string> {
  const claims: JWTPayload = { roles: o.roles ?? ['USER'] };
  if (o.tenantId !== null) claims.tenant_id = o.tenantId ?? 'acme';
  if (o.act) claims.act = o.act;
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(o.sub ?? 'user-1')
    .setIssuer(o.iss ?? ISSUER)
    .setAudience(o.aud ?? AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(o.expiresIn ?? '5m')
    .sign(new TextEncoder().encode(o.secret ?? SECRET));
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

export const SEEDER = { id: 'seeder', kind: 'service' } as const;

/** Tenants: acme, globex, initech (active, paid); umbrella (suspended); hooli (past due). */
export async function seedTenants(): Promise<MemoryTenantStore> {
  const store = new MemoryTenantStore();
  const directory = createTenantDirectory({ store });
  // Back-office provisioning: platform-wide changes run in an (audited) system scope.
  await runAsSystem({ actor: SEEDER, reason: 'test provisioning' }, noopAuditPort, async () => {
    await directory.putPlan({ id: 'pro', name: 'Pro' });
    for (const id of ['acme', 'globex', 'initech', 'umbrella', 'hooli']) {
      await directory.createTenant({ id, name: id });
      await directory.activateTenant(id);
      const sub = await directory.startSubscription({ tenantId: id, planId: 'pro', status: 'ACTIVE' });
      if (id === 'hooli') await directory.transitionSubscription(sub.id, 'PAST_DUE');
    }
    await directory.suspendTenant('umbrella');
  });
  return store;
}

export interface TestApp {
  app: Express;
  t: TenancyMiddleware;
  audit: MemoryAuditPort;
}

/** Per-tenant rows, each carrying its tenant's marker, read through the tenant context only. */
export const rows = new Map<string, Array<{ id: string; marker: string }>>();

export async function buildApp(
  over: Partial<TenancyOptions> & { auditPort?: AuditPort } = {},
): Promise<TestApp> {
  const audit = new MemoryAuditPort();
  const store = await seedTenants();
  const t = tenancy({
    auth: AUTH,
    audit: over.auditPort ?? audit,
    gatekeeper: createGatekeeper({ config: directConfigSource(store) }),
    rateLimit: false,
    publicPaths: ['/public'],
    ...over,
  });
  const app = express();
  app.use(t);
  app.get('/public/ping', (_req, res) => {
    res.json({ pong: true });
  });
  app.get('/ops/whoami', async (_req, res) => {
    await new Promise((r) => setTimeout(r, Math.random() * 5));
    const ctx = requireTenant();
    await new Promise((r) => setImmediate(r));
    res.json({ tenantId: requireTenant().tenantId, actor: ctx.actor.id, requestId: ctx.requestId });
  });
  app.get('/ops/rows', async (_req, res) => {
    await new Promise((r) => setTimeout(r, Math.random() * 3));
    res.json(rows.get(requireTenant().tenantId) ?? []);
  });
  app.post('/ops/items', audited({ resource: 'item' }), (req, res) => {
    const body = parseInput(
      z.object({ name: z.string().min(1), qty: z.number().int().positive() }),
      req.body,
      'item',
    );
    res.status(201).json({ tenantId: requireTenant().tenantId, name: body.name });
  });
  app.put('/ops/items/:id', audited({ resource: 'item' }), (req, res) => {
    res.json({ id: req.params.id });
  });
  app.post('/ops/payouts/:id', audited({ resource: 'payout', failClosed: true }), (req, res) => {
    res.status(201).json({ paid: req.params.id, secret: 'payout-body' });
  });
  // A later audited() without failClosed turns the route back to fail-open.
  app.post(
    '/ops/refunds/:id',
    audited({ resource: 'refund', failClosed: true }),
    audited({ resource: 'refund' }),
    (req, res) => {
      res.status(201).json({ refunded: req.params.id });
    },
  );
  // Answers, then throws: the error handler answers first, the withheld body must not follow.
  app.post('/ops/payouts-then-throw/:id', audited({ resource: 'payout', failClosed: true }), (_req, res) => {
    res.status(201).json({ secret: 'payout-body' });
    throw new Error('after answering');
  });
  // Whether the response got an own `end` (only fail-closed routes withhold it).
  app.post('/ops/response-shape', (_req, res) => {
    res.json({ ownEnd: Object.hasOwn(res, 'end') });
  });
  app.get('/ops/crash', () => {
    throw new Error('duplicate key value violates unique constraint "users_email_key"; SELECT * FROM users');
  });
  app.get('/back-office/settings', (_req, res) => {
    res.json({ ok: true });
  });
  app.delete('/back-office/users/:id', requireRoles('TENANT_ADMIN'), (_req, res) => {
    res.status(204).end();
  });
  app.get('/sys-mgt/tenants', (_req, res) => {
    res.json({ ok: true });
  });
  app.use(t.errors);
  return { app, t, audit };
}

export { histogramCounts, installOpenTelemetry, type OpenTelemetrySdk } from '@tenantry/testkit/otel';
