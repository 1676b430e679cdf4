import { fileURLToPath } from 'node:url';
import { hasBackend, runWorkers, skipLabel, useTestDatabase } from '@tenantry/testkit';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { createTenantDirectory } from '../src/index.js';
import { PostgresTenantStore, coreModelMigrations, runMigrations } from '../src/postgres.js';
import { backOffice } from './helpers.js';

const racer = fileURLToPath(new URL('./workers/lifecycle-racer.ts', import.meta.url));
const db = hasBackend('postgres') ? useTestDatabase() : { url: () => '' };

describe.skipIf(!hasBackend('postgres'))(
  `tenant lifecycle across processes [postgres]${skipLabel('postgres')}`,
  () => {
    it('6 processes racing resume vs archive on 40 suspended tenants: exactly one transition per tenant', async () => {
      const pool = new pg.Pool({ connectionString: db.url(), max: 4 });
      try {
        await runMigrations(pool, coreModelMigrations);
        const directory = backOffice(createTenantDirectory({ store: new PostgresTenantStore({ pool }) }));
        const tenants = Array.from({ length: 40 }, (_, i) => `race-${i}`);
        for (const id of tenants) {
          await directory.createTenant({ id, name: id });
          await directory.activateTenant(id);
          await directory.suspendTenant(id);
        }
        const result = await runWorkers({
          script: racer,
          workers: 6,
          args: () => [db.url(), JSON.stringify(tenants)],
          timeoutMs: 90_000,
        });
        const reports = result.messages as Array<{
          applied: Array<{ tenant: string; to: string; version: number }>;
          refused: Record<string, number>;
        }>;
        expect(reports).toHaveLength(6);
        const applied = reports.flatMap((r) => r.applied);
        // Exactly one process applied a transition to each tenant…
        expect(applied.map((a) => a.tenant).sort()).toEqual([...tenants].sort());
        // …every other attempt was refused with a typed code…
        const refusals = reports.flatMap((r) => Object.entries(r.refused));
        for (const [code] of refusals)
          expect(['ILLEGAL_TRANSITION', 'CONCURRENT_MODIFICATION']).toContain(code);
        expect(refusals.reduce((n, [, c]) => n + c, 0)).toBe(6 * 40 - 40);
        // …and the stored state is the winner's.
        const store = new PostgresTenantStore({ pool });
        for (const a of applied) {
          const t = await store.getTenant(a.tenant);
          expect({ status: t?.status, version: t?.version }).toEqual({ status: a.to, version: a.version });
        }
        const winners = new Set(applied.map((a) => a.to));
        console.log(
          `lifecycle race: ${applied.filter((a) => a.to === 'ACTIVE').length} resumed, ${applied.filter((a) => a.to === 'ARCHIVED').length} archived`,
        );
        expect(winners.size).toBeGreaterThan(0);
      } finally {
        await pool.end();
      }
    }, 120_000);
  },
);
