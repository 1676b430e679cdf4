// Cost of entering a tenant context and reading it, against a bare function call that receives the
// same tenant as an argument (the plain way to pass a tenant without any context machinery).
import { AsyncLocalStorage } from 'node:async_hooks';
import { compare, printBench, type BenchRow } from '@tenantry/testkit/bench';
import { requireTenant, runAsTenant } from '@tenantry/core';

const ctx = { tenantId: 'acme', actor: { id: 'u1', roles: ['MANAGER'] } };
let sink = 0;

// Baseline: pass the context explicitly and read the tenant id from it.
const readExplicit = (c: { tenantId: string }) => c.tenantId.length;
const rows: BenchRow[] = [];

rows.push(
  await runAsTenant(ctx, () =>
    compare({
      workload: 'read current tenant (requireTenant) vs reading an argument',
      unit: 'reads/s',
      batch: 1000,
      ours: () => {
        sink += requireTenant().tenantId.length;
      },
      baseline: () => {
        sink += readExplicit(ctx);
      },
    }),
  ),
);

// The read benchmark must itself run inside a context.
const enterAndRead = await runAsTenant(ctx, () =>
  compare({
    workload: 'enter context (runAsTenant) + read vs bare function call',
    unit: 'calls/s',
    batch: 100,
    ours: () => {
      sink += runAsTenant(ctx, () => requireTenant().tenantId.length);
    },
    baseline: () => {
      sink += ((c: typeof ctx) => readExplicit(c))(ctx);
    },
  }),
);
rows.push(enterAndRead);

// The same job done by hand with the primitive: AsyncLocalStorage.run with an unvalidated object.
const als = new AsyncLocalStorage<typeof ctx>();
rows.push(
  await compare({
    workload: 'enter context (runAsTenant, validated) + read vs raw AsyncLocalStorage.run + getStore',
    unit: 'calls/s',
    batch: 100,
    ours: () => {
      sink += runAsTenant(ctx, () => requireTenant().tenantId.length);
    },
    baseline: () => {
      sink += als.run(ctx, () => als.getStore()!.tenantId.length);
    },
  }),
);

printBench('@tenantry/core: tenant context', rows);
if (sink === -1) console.log(sink);
