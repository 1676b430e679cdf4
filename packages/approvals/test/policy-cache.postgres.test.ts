// The engine's per-tenant policy cache against PostgreSQL, attacked from outside the engine that holds
// it: another engine on its own pool (as another process would be) changes the policy; tenants with
// different policies share one engine; a caller's transaction joins the request.
import { MemoryAuditPort, runAsTenant } from '@tenantry/core';
import { hasBackend, skipLabel } from '@tenantry/testkit';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApprovalEngine, createApprovalEngine } from '../src/index.js';
import { PostgresApprovalStore } from '../src/postgres.js';
import { migrated, usePostgres } from './helpers.js';

const db = usePostgres();
const maker = { id: 'maker', roles: ['OPERATOR'] };
const admin = { id: 'admin', roles: ['TENANT_ADMIN'] };
let seq = 0;

describe.skipIf(!hasBackend('postgres'))(`policy cache on PostgreSQL${skipLabel('postgres')}`, () => {
  const pools: pg.Pool[] = [];
  beforeAll(async () => {
    pools.push(await migrated(db.pool()), new pg.Pool({ connectionString: db.url(), max: 3 }));
  });
  afterAll(async () => {
    await pools[1]?.end();
    await pools[0]?.end();
  });

  /** An engine on its own pool, with the cache on (the default). */
  const engineOn = (pool: pg.Pool): ApprovalEngine => {
    const engine = createApprovalEngine({
      store: new PostgresApprovalStore({ pool }),
      audit: new MemoryAuditPort(),
    });
    engine.registerAction('asset.delete', { execute: () => undefined });
    engine.registerResource('asset', { lock: () => undefined, unlock: () => undefined });
    return engine;
  };
  const setRoles = (engine: ApprovalEngine, tenantId: string, roles: string[], approvalsRequired = 1) =>
    runAsTenant({ tenantId, actor: admin }, () =>
      engine.setPolicies({ policies: [{ action: 'asset.delete', approverRoles: roles, approvalsRequired }] }),
    );
  const ask = (engine: ApprovalEngine, tenantId: string, transaction?: unknown) =>
    runAsTenant({ tenantId, actor: maker }, () =>
      engine.request(
        { action: 'asset.delete', resource: { type: 'asset', id: `r${++seq}` }, justification: 'x' },
        transaction === undefined ? undefined : { transaction },
      ),
    );
  const tenant = () => `pc-${++seq}-${Date.now().toString(36)}`;

  it('a policy changed by another engine (own pool) applies to the next request of the caching one', async () => {
    const [one, two] = [engineOn(pools[0]!), engineOn(pools[1]!)];
    const t = tenant();
    await setRoles(one, t, ['MANAGER']);
    expect((await ask(one, t)).rules).toMatchObject({ version: 1, policy: { approverRoles: ['MANAGER'] } });
    await setRoles(two, t, ['AUDITOR'], 2);
    const next = await ask(one, t);
    expect(next.rules).toMatchObject({
      version: 2,
      policy: { approverRoles: ['AUDITOR'], approvalsRequired: 2 },
    });
    // Stored with the version it was created under, as read back by the other engine.
    const stored = await runAsTenant({ tenantId: t, actor: maker }, () => two.get({ requestId: next.id }));
    expect(stored.rules).toMatchObject({ version: 2, policy: { approverRoles: ['AUDITOR'] } });
  });

  it('a policy removed by another engine (a new version with no policies) is not applied from the cache', async () => {
    const [one, two] = [engineOn(pools[0]!), engineOn(pools[1]!)];
    const t = tenant();
    await setRoles(one, t, ['MANAGER']);
    expect((await ask(one, t)).status).toBe('PENDING');
    await runAsTenant({ tenantId: t, actor: admin }, () => two.setPolicies({ policies: [] }));
    const next = await ask(one, t);
    expect([next.rules.version, next.rules.policy, next.status]).toEqual([0, null, 'EXECUTED']);
  });

  it('tenants with different policies on one engine each get their own (no entry used for another tenant)', async () => {
    const one = engineOn(pools[0]!);
    const [a, b] = [tenant(), tenant()];
    await setRoles(one, a, ['MANAGER']);
    await setRoles(one, b, ['AUDITOR'], 2);
    await setRoles(one, b, ['AUDITOR'], 3); // b at version 2, a at version 1
    const out = await Promise.all([a, b, a, b].map((t) => ask(one, t)));
    expect(
      out.map((r) => [
        r.tenantId,
        r.rules.version,
        r.rules.policy?.approverRoles,
        r.rules.policy?.approvalsRequired,
      ]),
    ).toEqual([
      [a, 1, ['MANAGER'], 1],
      [b, 2, ['AUDITOR'], 3],
      [a, 1, ['MANAGER'], 1],
      [b, 2, ['AUDITOR'], 3],
    ]);
  });

  it('a request in a caller REPEATABLE READ transaction whose snapshot predates a committed policy change uses the new policy (as without the cache)', async () => {
    const [one, two] = [engineOn(pools[0]!), engineOn(pools[1]!)];
    const t = tenant();
    await setRoles(one, t, ['MANAGER']);
    await ask(one, t); // cached: version 1
    const client = await pools[0]!.connect();
    try {
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
      await client.query('SELECT 1'); // the snapshot is taken here
      await setRoles(two, t, ['AUDITOR'], 2); // committed before the request is made
      const r = await ask(one, t, client);
      await client.query('COMMIT');
      expect(r.rules).toMatchObject({ version: 2, policy: { approverRoles: ['AUDITOR'] } });
    } finally {
      await client.query('ROLLBACK').catch(() => undefined);
      client.release();
    }
  });
});
