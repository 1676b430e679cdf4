import { hasBackend, skipLabel, useTestDatabase } from '@tenantry/testkit';
import { describe, expect, it } from 'vitest';
import { createTenantUnitOfWork, tenantTableSql } from '../src/postgres.js';
import { asTenant, useRlsDatabase } from './helpers.js';

// A setting name the options schema accepts (`name.name`, lower snake case, no length limit) whose
// second part is longer than PostgreSQL's identifier limit (63 bytes). `set_config('<name>', …)` takes
// the name as a string and sets it as is; `SET LOCAL <name> TO …` parses it as identifiers and
// truncates the part to 63 bytes (NOTICE only), so the unit sets a different setting from the one the
// policies read with current_setting('<name>'): the tenant's units see none of its rows.
const LONG = `app.${'tenant_identifier_'.repeat(4)}x`;

describe.skipIf(!hasBackend('postgres')).each([
  { pipeline: false, mode: 'one reply at a time' },
  { pipeline: true, mode: 'pg pipeline mode' },
])(
  `attack session 4: unit of work with a long setting name, $mode${skipLabel('postgres')}`,
  ({ pipeline }) => {
    const db = useTestDatabase();
    const rls = useRlsDatabase(db, 2, pipeline);

    it('the tenant is set under the configured setting name (the one the policies read)', async () => {
      expect(LONG.split('.')[1]!.length).toBeGreaterThan(63);
      const { admin, app, appRole, ownerRole } = rls();
      await admin.query(`CREATE TABLE IF NOT EXISTS long_items (tenant_id text NOT NULL, id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, note text NOT NULL);
      ALTER TABLE long_items OWNER TO ${ownerRole}`);
      for (const sql of tenantTableSql({ table: 'long_items', setting: LONG })) await admin.query(sql);
      await admin.query(`GRANT SELECT, INSERT ON long_items TO ${appRole}`);
      await admin.query(
        `INSERT INTO long_items (tenant_id, note) VALUES ('t-long', 'a'), ('t-long', 'b'), ('other', 'c')`,
      );
      const uow = createTenantUnitOfWork(app, { setting: LONG });
      const seen = await asTenant('t-long', () =>
        uow.run(async (c) => {
          const s = await c.query<{ s: string | null }>(`SELECT current_setting('${LONG}', true) AS s`);
          const rows = await c.query<{ note: string }>('SELECT note FROM long_items ORDER BY note');
          return { setting: s.rows[0]?.s, notes: rows.rows.map((r) => r.note) };
        }),
      );
      expect(seen).toEqual({ setting: 't-long', notes: ['a', 'b'] });
    });
  },
);
