// The reference app, for now: a walk through @tenantry/core that prints what it does.
// Run it with `npm run example` from the repository root.
import { EventEmitter } from 'node:events';
import {
  MemoryAuditPort,
  Roles,
  bindToCurrentContext,
  createJobContextCodec,
  createTenantKeys,
  defineAccessPolicy,
  isTenantryError,
  requireTenant,
  runAsSystem,
  runAsTenant,
} from '@tenantry/core';

const say = (line: string) => console.log(line);
const audit = new MemoryAuditPort();
const policy = defineAccessPolicy({
  grants: { [Roles.SUPER_ADMIN]: ['*'], [Roles.MANAGER]: ['invoice:*'], [Roles.USER]: ['invoice:read'] },
  inherits: { [Roles.TENANT_ADMIN]: [Roles.MANAGER] },
});

// 1. No context, no data: a missing tenant is an error, not "all tenants".
try {
  requireTenant();
} catch (error) {
  if (isTenantryError(error, 'TENANT_CONTEXT_MISSING'))
    say('1. outside a tenant context: refused with TENANT_CONTEXT_MISSING');
}

// 2. Two requests for two tenants, interleaved; each sees only its own tenant after awaits and timers.
const bus = new EventEmitter();
async function handleRequest(tenantId: string, userId: string, roles: string[]) {
  return runAsTenant({ tenantId, actor: { id: userId, roles } }, async () => {
    bus.on(
      'tick',
      bindToCurrentContext(() =>
        say(`   bus listener registered by ${tenantId} runs as ${requireTenant().tenantId}`),
      ),
    );
    await new Promise((r) => setTimeout(r, 10));
    const ctx = requireTenant();
    const keys = createTenantKeys();
    say(`2. request for ${ctx.tenantId} by ${ctx.actor.id}: cache key ${keys.cacheKey('invoices', 'open')}`);
    say(
      `   may void invoices: ${policy.can(ctx.actor, 'invoice:void')}; object path ${keys.objectPath('exports', 'q1.csv')}`,
    );
    return createJobContextCodec().capture();
  });
}
const [acmeJob] = await Promise.all([
  handleRequest('acme', 'ana', [Roles.MANAGER]),
  handleRequest('globex', 'bob', [Roles.USER]),
]);
runAsTenant({ tenantId: 'initech', actor: { id: 'carl' } }, () => bus.emit('tick'));

// 3. A queued job carries its tenant to the worker.
createJobContextCodec().restore(JSON.parse(JSON.stringify(acmeJob)), (ctx) =>
  say(`3. worker restored job context: tenant ${ctx.tenantId}, actor ${ctx.actor.id}`),
);

// 4. Cross-tenant work only inside an audited system scope.
await runAsSystem(
  { actor: { id: 'billing', kind: 'service' }, reason: 'month-end invoicing' },
  audit,
  async () => {
    for (const tenantId of ['acme', 'globex']) {
      await runAsTenant({ tenantId, actor: { id: 'billing', kind: 'service' } }, async () => {
        say(`4. system scope invoicing ${requireTenant().tenantId}`);
      });
    }
  },
);
say(`   audit trail: ${audit.events.map((e) => `${e.action}(${e.outcome})`).join(', ')}`);
