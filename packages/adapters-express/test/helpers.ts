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
import { context, metrics, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  AggregationTemporality,
  type DataPoint,
  type Histogram,
  InMemoryMetricExporter,
  MeterProvider,
  type MetricData,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
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

/** The OpenTelemetry SDK (trace and metrics) registered globally, as a host registers it, with in-memory exporters. */
export interface OpenTelemetrySdk {
  spans: InMemorySpanExporter;
  /** Collect now and return the metric of that name (cumulative since the SDK was installed). */
  metric(name: string): Promise<MetricData | undefined>;
  /** Every metric collected now. */
  allMetrics(): Promise<MetricData[]>;
  uninstall(): Promise<void>;
}

export function installOpenTelemetry(): OpenTelemetrySdk {
  const spans = new InMemorySpanExporter();
  const contextManager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
  trace.setGlobalTracerProvider(tracerProvider);
  const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  // Exports only when the test flushes (the interval is longer than any test).
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
  const meterProvider = new MeterProvider({ readers: [reader] });
  metrics.setGlobalMeterProvider(meterProvider);
  const allMetrics = async (): Promise<MetricData[]> => {
    exporter.reset();
    await reader.forceFlush();
    return exporter.getMetrics().flatMap((r) => r.scopeMetrics.flatMap((s) => s.metrics));
  };
  return {
    spans,
    allMetrics,
    metric: async (name) => (await allMetrics()).find((m) => m.descriptor.name === name),
    async uninstall() {
      trace.disable();
      metrics.disable();
      context.disable();
      await Promise.all([tracerProvider.shutdown(), meterProvider.shutdown()]);
    },
  };
}

/** The histogram points of a metric, as `[attributes, count]` (for readable assertions). */
export function histogramCounts(metric: MetricData | undefined): Array<[Record<string, unknown>, number]> {
  return ((metric?.dataPoints ?? []) as DataPoint<Histogram>[]).map((p) => [
    { ...p.attributes },
    p.value.count,
  ]);
}
