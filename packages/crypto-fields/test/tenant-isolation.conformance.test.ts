import { type TenantScopedOperation, tenantIsolationConformance } from '@tenantry/core/testing';
import { runRotation } from '@tenantry/crypto-fields';
import { MemoryCheckpointStore } from '@tenantry/crypto-fields/memory';
import { describe, expect, it } from 'vitest';
import { MemoryRotationTarget, makeFields } from './helpers.js';

// Invariant T1 against every public operation of the package that acts for a tenant: the tenant comes
// from core's resolveTenantId (memory store; the rule does not depend on the store).
const { fields } = makeFields();
const at = (tenantId: string | undefined) => ({ tenantId, collection: 'settings', field: 'smtpPassword' });
const obj = (tenantId: string | undefined) => ({ tenantId, collection: 'settings', rowId: 'row-1' });
let job = 0;

const operations: TenantScopedOperation[] = [
  { name: 'seal', call: (t) => fields.seal('s3cret', at(t)) },
  { name: 'open', call: async (t) => fields.open(await fields.seal('s3cret', at(t)), at(t)) },
  { name: 'sealJson', call: (t) => fields.sealJson({ a: 1 }, at(t)) },
  { name: 'openJson', call: async (t) => fields.openJson(await fields.sealJson([1], at(t)), at(t)) },
  {
    name: 'sealObject',
    call: (t) => fields.sealObject({ smtp: { password: 'p' } }, ['smtp.password'], obj(t)),
  },
  {
    name: 'openObject',
    call: async (t) =>
      fields.openObject(
        await fields.sealObject({ smtp: { password: 'p' } }, ['smtp.password'], obj(t)),
        ['smtp.password'],
        obj(t),
      ),
  },
  { name: 'reseal', call: async (t) => fields.reseal(await fields.seal('v', at(t)), at(t)) },
  { name: 'blindIndex', call: (t) => fields.blindIndex('ann@example.com', at(t)) },
  { name: 'keys.rotate', call: (t) => fields.keys.rotate(t) },
  { name: 'keys.shred', call: (t) => fields.keys.shred(t) },
  { name: 'keys.retire', call: (t) => fields.keys.retire(t, 'dkNeverExisted') },
  { name: 'keys.forget', call: async (t) => fields.keys.forget(t) },
  {
    name: 'runRotation',
    call: (t) =>
      runRotation({
        fields,
        tenantId: t,
        target: new MemoryRotationTarget('settings', ['smtpPassword'], []),
        checkpoints: new MemoryCheckpointStore(),
        jobId: `isolation-${++job}`,
      }),
  },
];

describe('@tenantry/crypto-fields', () => {
  tenantIsolationConformance(() => ({ tenants: ['acme', 'globex'], operations }), { describe, it, expect });
});
