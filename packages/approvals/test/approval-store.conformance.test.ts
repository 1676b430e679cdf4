import { hasBackend, skipLabel } from '@tenantry/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryApprovalStore } from '../src/memory.js';
import { PostgresApprovalStore } from '../src/postgres.js';
import { approvalStoreConformance } from '../src/testing.js';
import { migrated, usePostgres } from './helpers.js';

const pg = usePostgres();

describe('memory', () => {
  approvalStoreConformance(() => ({ store: new MemoryApprovalStore() }), { describe, it, expect });
});

describe.skipIf(!hasBackend('postgres'))(`postgres${skipLabel('postgres')}`, () => {
  let store: PostgresApprovalStore;
  beforeAll(async () => {
    store = new PostgresApprovalStore({ pool: await migrated(pg.pool()) });
  });
  afterAll(() => pg.pool().end());
  approvalStoreConformance(() => ({ store }), { describe, it, expect });
});
