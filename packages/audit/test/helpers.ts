import { uniqueId, withDatabase } from '@tenantry/testkit';
import pg from 'pg';
import { auditGrantsSql, auditMigrationSql } from '../src/postgres.js';

/** Run the migration as the database owner and create a non-owner application role with the shipped grants. */
export async function migrateWithAppRole(
  url: string,
): Promise<{ appUrl: string; role: string; dropRole: () => Promise<void> }> {
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  const role = uniqueId('audit_app');
  try {
    await admin.query(auditMigrationSql());
    await admin.query(`CREATE ROLE ${role} LOGIN NOSUPERUSER NOBYPASSRLS`);
    await admin.query(auditGrantsSql(role));
  } finally {
    await admin.end();
  }
  const u = new URL(url);
  u.username = role;
  return {
    appUrl: u.toString(),
    role,
    dropRole: async () => {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      try {
        await c.query(`DROP OWNED BY ${role}`);
        await c.query(`DROP ROLE IF EXISTS ${role}`);
      } finally {
        await c.end();
      }
    },
  };
}

export { withDatabase };
