// One of several processes racing to move the same tenants through conflicting transitions.
import { reportToParent, workerIdentity } from '@tenantry/testkit/child';
import pg from 'pg';
import { MemoryAuditPort, createTenantDirectory, isTenantryError, runAsSystem } from '../../src/index.js';
import { PostgresTenantStore } from '../../src/postgres.js';

const [url, tenantsJson] = process.argv.slice(2) as [string, string];
const tenants = JSON.parse(tenantsJson) as string[];
const { index } = workerIdentity();
const pool = new pg.Pool({ connectionString: url, max: 2 });
const directory = createTenantDirectory({ store: new PostgresTenantStore({ pool }) });
const audit = new MemoryAuditPort();
const applied: Array<{ tenant: string; to: string; version: number }> = [];
const refused: Record<string, number> = {};
directory.on('tenant.transitioned', (e) => {
  applied.push({ tenant: e.tenantId, to: e.to, version: e.version });
});
for (const tenant of tenants) {
  // Even workers resume, odd workers archive: from SUSPENDED only one of the two can ever apply.
  try {
    // Back-office work: inside the audited system scope.
    await runAsSystem(
      { actor: { id: `racer-${index}`, kind: 'service' }, reason: 'lifecycle race' },
      audit,
      () => (index % 2 === 0 ? directory.resumeTenant(tenant) : directory.archiveTenant(tenant)),
    );
  } catch (e) {
    const code = isTenantryError(e) ? e.code : 'UNTYPED';
    refused[code] = (refused[code] ?? 0) + 1;
  }
}
reportToParent({ index, applied, refused });
await pool.end();
