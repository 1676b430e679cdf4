// Copied by scripts/consumer-smoke.mjs into a throwaway project that installed the packed tarballs, and
// compiled twice, strict with skipLibCheck off: as ESM (module/moduleResolution nodenext) and as
// CommonJS (moduleResolution node10, which ignores `exports` and reads `typesVersions`). Then run.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createAuditLog, generateCheckpointKeys } from '@tenantry/audit';
import { MemoryAuditSink } from '@tenantry/audit/memory';
import {
  createGatekeeper,
  createQuotas,
  createTenantDirectory,
  defineSettings,
  directConfigSource,
  isTenantryError,
  MemoryAuditPort,
  requireTenant,
  runAsSystem,
  runAsTenant,
  TenantryError,
} from '@tenantry/core';
import { MemoryQuotaStore, MemoryTenantStore } from '@tenantry/core/memory';
import { createFieldCrypto, localKeyProvider } from '@tenantry/crypto-fields';
import { MemoryDataKeyStore } from '@tenantry/crypto-fields/memory';
import { secret, secretPaths } from '@tenantry/crypto-fields/zod';
import { createLockedSequencer, defineSeries } from '@tenantry/sequencer';
import { MemoryCounterStore, MemoryLockBackend } from '@tenantry/sequencer/memory';
import { z } from 'zod';

export async function main(): Promise<string[]> {
  const done: string[] = [];
  const acme = { tenantId: 'acme', actor: { id: 'u1', roles: ['TENANT_ADMIN'] } };

  // core: settings typed from the user's own zod schemas
  const settings = defineSettings({
    'exports.csv': { schema: z.boolean(), default: false },
    'invoice.prefix': { schema: z.string().max(8), default: 'INV' },
  });
  const resolved = settings.resolve({ tenant: { 'exports.csv': true } });
  const prefix: string = resolved.get('invoice.prefix');
  const csv: boolean = resolved.isEnabled('exports.csv');
  // @ts-expect-error only boolean settings are flags (fails to compile if the types degraded to `any`)
  resolved.isEnabled('invoice.prefix');
  assert.equal(prefix, 'INV');
  assert.equal(csv, true);
  done.push('core settings');

  // core: context and quotas
  const quotas = createQuotas({
    store: new MemoryQuotaStore(),
    quotas: { emails: { window: 'day', defaultLimit: 1 } },
  });
  await runAsTenant({ tenantId: 'acme', actor: { id: 'u1', roles: ['USER'] } }, async () => {
    assert.equal(requireTenant().tenantId, 'acme');
    await quotas.consume('emails');
    const refused = await quotas.consume('emails').catch((e: unknown) => e);
    assert.ok(isTenantryError(refused, 'QUOTA_EXCEEDED'), 'second email is over the limit');
    assert.ok(refused instanceof TenantryError);
  });
  done.push('core context + quotas');

  // core: directory and gatekeeper
  const store = new MemoryTenantStore();
  const directory = createTenantDirectory({ store });
  // Creating tenants is platform-wide work: only inside the audited system scope.
  const platformAudit = new MemoryAuditPort();
  await runAsSystem(
    { actor: { id: 'ops', kind: 'service' }, reason: 'provision acme' },
    platformAudit,
    async () => {
      await directory.createTenant({ id: 'acme', name: 'Acme' });
      await directory.activateTenant('acme');
    },
  );
  const gate = createGatekeeper({ config: directConfigSource(store) });
  const decision = await runAsTenant(acme, () => gate.check({ access: 'read' }));
  assert.equal(decision.allowed, true);
  done.push('core gatekeeper');

  // sequencer: gapless numbers (callback form, memory backends)
  const numbers: number[] = [];
  const sequencer = createLockedSequencer({
    lock: new MemoryLockBackend(),
    store: new MemoryCounterStore(),
    highestCommitted: async () => (numbers.length > 0 ? Math.max(...numbers) : null),
  });
  const invoices = defineSeries({
    key: 'invoice',
    period: 'yearly',
    format: '{prefix}{yyyy}-{n:04}',
    prefix: 'INV-',
  });
  const code = await runAsTenant(acme, () =>
    sequencer.withNumber(invoices, { issueDate: '2026-03-14' }, async (n) => {
      numbers.push(n.number);
      return n.formatted;
    }),
  );
  assert.equal(code, 'INV-2026-0001');
  // An error class defined in @tenantry/core, thrown by @tenantry/sequencer: one class across packages.
  const missingDate = await runAsTenant(acme, () =>
    sequencer.withNumber(invoices, {}, async () => 'never').catch((e: unknown) => e),
  );
  assert.ok(missingDate instanceof TenantryError, 'sequencer errors are core TenantryErrors');
  done.push('sequencer');

  // crypto-fields: seal/open, and secret paths from the user's zod schema
  const fields = createFieldCrypto({
    provider: localKeyProvider({ keys: { kek1: randomBytes(32).toString('base64') }, primary: 'kek1' }),
    store: new MemoryDataKeyStore(),
  });
  const at = { collection: 'tenant_settings', field: 'smtpPassword' };
  await runAsTenant(acme, async () => {
    const sealed = await fields.seal('s3cret', at);
    assert.equal(await fields.open(sealed, at), 's3cret');
  });
  const Settings = z.object({
    smtp: z.object({ host: z.string(), password: secret(z.string()) }),
    webhooks: z.array(z.object({ url: z.string(), secret: secret(z.string()).nullable() })),
  });
  assert.deepEqual(secretPaths(Settings), ['smtp.password', 'webhooks[].secret']);
  done.push('crypto-fields');

  // audit: record, verify, checkpoint
  const keys = generateCheckpointKeys();
  const audit = createAuditLog({
    sink: new MemoryAuditSink(),
    signingKey: keys.secretKey,
    publicKeys: [keys.publicKey],
  });
  await runAsTenant(acme, async () => {
    await audit.record({ tenantId: 'acme', actor: { id: 'u1' }, action: 'plan.changed', outcome: 'success' });
    const verified = await audit.verify();
    assert.equal(verified.ok, true);
    await audit.checkpoint();
  });
  done.push('audit');

  return done;
}
