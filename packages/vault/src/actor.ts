import { type Actor, currentSystemScope, currentTenantContext } from '@tenantry/core';

/** Who acts, for audit events and `createdBy`: the tenant context's actor, else the system scope's. */
export function currentActor(): Actor {
  return (
    currentTenantContext()?.actor ??
    currentSystemScope()?.actor ?? { id: 'tenantry-vault', roles: [], kind: 'system' }
  );
}
