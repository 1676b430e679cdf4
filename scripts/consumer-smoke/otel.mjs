// (d) An app on @opentelemetry/api 1.9.0 with the OpenTelemetry SDK, which accepts only <1.10.0. The spans
// Tenantry makes must reach the app's exporter: npm must have installed a single copy of the API (a
// Tenantry package pinning another version would get its own copy, whose spans go nowhere).
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import {
  createGatekeeper,
  createQuotas,
  createTenantDirectory,
  directConfigSource,
  MemoryAuditPort,
  runAsSystem,
  runAsTenant,
} from '@tenantry/core';
import { MemoryQuotaStore, MemoryTenantStore } from '@tenantry/core/memory';

const api = JSON.parse(readFileSync('node_modules/@opentelemetry/api/package.json', 'utf8'));
assert.equal(api.version, process.env.OTEL_API_VERSION, 'the app resolved the API version it asked for');
assert.ok(
  !existsSync('node_modules/@tenantry/core/node_modules/@opentelemetry/api'),
  '@tenantry/core got its own copy of @opentelemetry/api',
);

const exporter = new InMemorySpanExporter();
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
trace.setGlobalTracerProvider(
  new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }),
);

const quotas = createQuotas({
  store: new MemoryQuotaStore(),
  quotas: { emails: { window: 'day', defaultLimit: 5 } },
});
await runAsTenant({ tenantId: 'acme', actor: { id: 'u1' } }, () => quotas.consume('emails'));

const store = new MemoryTenantStore();
const directory = createTenantDirectory({ store });
await runAsSystem(
  { actor: { id: 'ops', kind: 'service' }, reason: 'provision acme' },
  new MemoryAuditPort(),
  async () => {
    await directory.createTenant({ id: 'acme', name: 'Acme' });
    await directory.activateTenant('acme');
  },
);
await runAsTenant({ tenantId: 'acme', actor: { id: 'u1' } }, () =>
  createGatekeeper({ config: directConfigSource(store) }).check({ access: 'read' }),
);

const spans = exporter.getFinishedSpans();
const consume = spans.find((s) => s.name === 'tenantry.core.quota.consume');
assert.ok(consume, `no tenantry.core.quota.consume span among [${spans.map((s) => s.name).join(', ')}]`);
assert.equal(consume.attributes['tenantry.tenant_id'], 'acme');
const check = spans.find((s) => s.name === 'tenantry.core.gatekeeper.check');
assert.ok(check, `no tenantry.core.gatekeeper.check span among [${spans.map((s) => s.name).join(', ')}]`);
assert.equal(check.attributes['tenantry.decision'], 'allowed');
console.log(
  `ok: ${spans.length} spans on @opentelemetry/api ${api.version}: ${spans.map((s) => s.name).join(', ')}`,
);
