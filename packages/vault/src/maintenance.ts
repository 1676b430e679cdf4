import type { TenantDirectory } from '@tenantry/core';

/**
 * Switches a tenant's maintenance mode (core's gatekeeper then refuses writes for all but super
 * admins). A restore turns it on before it changes anything and off afterwards, also on failure.
 */
export interface Maintenance {
  set(tenantId: string, on: boolean): Promise<void>;
}

/**
 * Core's tenant directory as the vault's {@link Maintenance}: `updateTenant(id, { maintenance })`.
 * @example const vault = createVault({ ..., maintenance: directoryMaintenance(directory) });
 */
export function directoryMaintenance(directory: Pick<TenantDirectory, 'updateTenant'>): Maintenance {
  return Object.freeze({
    async set(tenantId: string, on: boolean): Promise<void> {
      await directory.updateTenant(tenantId, { maintenance: on });
    },
  });
}
