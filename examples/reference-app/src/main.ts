// The reference app, for now: a walk through @tenantry/core that prints what it does.
// Run it with `npm run example` from the repository root.
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { createAuditLog, generateCheckpointKeys, verifyExport } from '@tenantry/audit';
import { MemoryAuditSink } from '@tenantry/audit/memory';
import { createFieldCrypto, localKeyProvider } from '@tenantry/crypto-fields';
import { MemoryDataKeyStore } from '@tenantry/crypto-fields/memory';
import { createLockedSequencer, defineSeries, findGapsAndDuplicates, isGapless } from '@tenantry/sequencer';
import { MemoryCounterStore, MemoryLockBackend } from '@tenantry/sequencer/memory';
import {
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
// Job contexts travel signed: a worker refuses a job whose tenant was changed in the queue.
const jobContexts = createJobContextCodec({ signingKey: randomBytes(32) });
// The audit trail every part of the app writes to: hash-chained per tenant, checkpoints signed.
const checkpointKeys = generateCheckpointKeys();
const auditLog = createAuditLog({
  sink: new MemoryAuditSink(),
  signingKey: checkpointKeys.secretKey,
  publicKeys: [checkpointKeys.publicKey],
});
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
    return jobContexts.capture();
  });
}
const [acmeJob] = await Promise.all([
  handleRequest('acme', 'ana', [Roles.MANAGER]),
  handleRequest('globex', 'bob', [Roles.USER]),
]);
runAsTenant({ tenantId: 'initech', actor: { id: 'carl' } }, () => bus.emit('tick'));

// 3. A queued job carries its tenant to the worker.
jobContexts.restore(JSON.parse(JSON.stringify(acmeJob)), (ctx) =>
  say(`3. worker restored job context: tenant ${ctx.tenantId}, actor ${ctx.actor.id}`),
);

// 4. Cross-tenant work only inside an audited system scope.
await runAsSystem(
  { actor: { id: 'billing', kind: 'service' }, reason: 'month-end invoicing' },
  auditLog.port,
  async () => {
    for (const tenantId of ['acme', 'globex']) {
      await runAsTenant({ tenantId, actor: { id: 'billing', kind: 'service' } }, async () => {
        say(`4. system scope invoicing ${requireTenant().tenantId}`);
      });
    }
  },
);
// Reading the platform trail (tenant null) is itself cross-tenant work: it needs the system scope.
const platformTrail = await runAsSystem(
  { actor: { id: 'auditor', kind: 'user' }, reason: 'review the platform trail' },
  auditLog.port,
  () => auditLog.query({ tenantId: null }),
);
say(`   audit trail: ${platformTrail.events.map((e) => `${e.action}(${e.outcome})`).join(', ')}`);

// 5. Gapless invoice numbers per tenant and fiscal year, written with the document (callback form).
const documents: Array<{ tenant: string; series: string; period: string; number: number; code: string }> = [];
const lock = new MemoryLockBackend();
const sequencer = createLockedSequencer({
  lock,
  store: new MemoryCounterStore(),
  highestCommitted: async (k) =>
    Math.max(
      0,
      ...documents
        .filter((d) => d.tenant === k.tenant && d.series === k.series && d.period === k.period)
        .map((d) => d.number),
    ) || null,
});
for (const tenantId of ['acme', 'globex']) {
  await runAsTenant({ tenantId, actor: { id: 'clerk', roles: [Roles.OPERATOR] } }, async () => {
    const invoices = defineSeries({
      key: 'invoice',
      period: 'yearly',
      format: '{prefix}{yyyy}-{n:06}',
      prefix: 'INV-',
    });
    for (const [i, issueDate] of ['2026-12-30', '2026-12-31', '2027-01-02'].entries()) {
      try {
        await sequencer.withNumber(invoices, { issueDate }, async (n) => {
          // The second document of acme fails to save: its number must not be consumed.
          if (tenantId === 'acme' && i === 1) throw new Error('payment provider down');
          documents.push({
            tenant: n.tenant,
            series: n.series,
            period: n.period,
            number: n.number,
            code: n.formatted,
          });
          await auditLog.recordInContext({
            action: 'invoice.issued',
            targets: [{ type: 'invoice', id: n.formatted }],
            outcome: 'success',
          });
        });
      } catch {
        say(`5. ${tenantId}: invoice of ${issueDate} failed to save; no number consumed`);
      }
    }
  });
}
say(`   numbers: ${documents.map((d) => `${d.tenant}:${d.code}`).join(', ')}`);
say(
  `   acme 2026 gapless: ${isGapless(
    findGapsAndDuplicates(
      documents.filter((d) => d.tenant === 'acme' && d.period === '2026').map((d) => d.number),
      1,
    ),
  )}`,
);

// 6. The audit trail is tamper-evident: verify it, export it, and catch an edit in the export.
const acmeAdmin = { tenantId: 'acme', actor: { id: 'ana', roles: [Roles.TENANT_ADMIN] } };
const exported: string[] = await runAsTenant(acmeAdmin, async () => {
  await auditLog.checkpoint();
  const verified = await auditLog.verify();
  say(`6. acme audit chain verifies: ${verified.ok} (${verified.checked} events)`);
  const lines: string[] = [];
  for await (const line of auditLog.exportTrail()) lines.push(line);
  return lines;
});
const tampered = exported.map((line) => line.replace('INV-2027-000001', 'INV-2027-000099'));
const outsider = await verifyExport(tampered, { publicKeys: [checkpointKeys.publicKey] });
say(
  `   an outsider re-checking an edited export: ok=${outsider.ok}, first bad event seq ${outsider.ok ? '-' : outsider.firstBadSeq}`,
);

// 7. Tenants' provider secrets are encrypted before they are stored, bound to tenant and field.
const fields = createFieldCrypto({
  provider: localKeyProvider({ keys: { kek1: randomBytes(32).toString('base64') }, primary: 'kek1' }),
  store: new MemoryDataKeyStore(),
});
const smtp = { collection: 'tenant_settings', field: 'smtpPassword' };
const asAdmin = (tenantId: string) => ({
  tenantId,
  actor: { id: `${tenantId}-admin`, roles: [Roles.TENANT_ADMIN] },
});
const stored = await runAsTenant(asAdmin('acme'), async () => {
  const sealed = await fields.seal('acme-smtp-s3cret', smtp);
  say(
    `7. acme SMTP password as stored: ${sealed.slice(0, 12)}… (contains the plaintext: ${sealed.includes('s3cret')})`,
  );
  say(`   opened for acme: ${(await fields.open(sealed, smtp)) === 'acme-smtp-s3cret'}`);
  const swapped = await fields
    .open(sealed, { collection: 'tenant_settings', field: 'smsApiKey' })
    .catch((e: { code?: string }) => e.code);
  say(`   moved to another field of acme: refused with ${swapped}`);
  return sealed;
});
const moved = await runAsTenant(asAdmin('globex'), () =>
  fields.open(stored, smtp).catch((e: { code?: string }) => e.code),
);
say(`   the same ciphertext copied into globex's settings: refused with ${moved}`);
