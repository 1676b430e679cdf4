import { z } from 'zod';
import type { PgQueryable } from '../drivers.js';
import { type CoreErrorCode, TenantryError } from '../errors.js';
import { parseInput, requireMethods } from '../validation.js';
import { PgIdentifierSchema } from './sql-quote.js';

/** The codes of the row-level security checks (entries of `CoreErrorCodes`). */
export type RlsErrorCode = Extract<
  CoreErrorCode,
  'RLS_SUPERUSER' | 'RLS_BYPASSRLS' | 'RLS_TABLE_OWNER' | 'RLS_NOT_ENFORCED'
>;

/** Raised by {@link assertRlsEnforced}. `details` names the role and the offending tables, never data. */
export class RlsError extends TenantryError {
  declare readonly code: RlsErrorCode;
}

/** Options of {@link assertRlsEnforced}. */
export const RlsCheckOptionsSchema = z
  .object({
    /**
     * The tenant tables (`table` or `schema.table`, resolved with the connection's search_path). Each
     * must exist with RLS enabled and forced, and must not be owned by the connection's role. When
     * omitted, every table with RLS enabled in the database is checked for ownership.
     */
    tables: z.array(z.string().min(1).max(127)).max(10_000).optional(),
  })
  .strict();
export type RlsCheckOptions = z.input<typeof RlsCheckOptionsSchema>;

/** What the check found about the connection's role. */
export interface RlsCheckReport {
  readonly role: string;
  /** The tenant tables checked (qualified names). */
  readonly tables: readonly string[];
}

interface RoleRow {
  role: string;
  rolsuper: boolean;
  rolbypassrls: boolean;
  escalates_to: string | null;
}

interface TableRow {
  requested: string | null;
  name: string | null;
  rls: boolean | null;
  forced: boolean | null;
  owned: boolean | null;
}

/**
 * The role half of {@link assertRlsEnforced}: refuse a connection whose `current_user` is a superuser,
 * has BYPASSRLS, or is a member of a role that has either. Used by the unit of work once per physical
 * connection.
 * @throws RlsError `RLS_SUPERUSER`, `RLS_BYPASSRLS`, `RLS_NOT_ENFORCED` (the role could not be read)
 * @internal
 */
export async function assertRoleSubjectToRls(db: PgQueryable): Promise<{ role: string }> {
  const roleRes = await db.query<RoleRow>(
    `SELECT r.rolname AS role, r.rolsuper, r.rolbypassrls,
            (SELECT string_agg(x.rolname, ',' ORDER BY x.rolname) FROM pg_roles x
              WHERE x.oid <> r.oid AND (x.rolsuper OR x.rolbypassrls)
                AND pg_has_role(r.oid, x.oid, 'MEMBER')) AS escalates_to
       FROM pg_roles r WHERE r.rolname = current_user`,
  );
  const role = roleRes.rows[0];
  if (!role) throw new RlsError('RLS_NOT_ENFORCED', 'Could not read the current role');
  if (role.rolsuper) {
    throw new RlsError(
      'RLS_SUPERUSER',
      'The database role is a superuser, so row-level security would not apply: connect as a non-superuser application role (see the README, "PostgreSQL row-level security")',
      {
        details: { role: role.role },
      },
    );
  }
  if (role.rolbypassrls || role.escalates_to) {
    throw new RlsError('RLS_BYPASSRLS', 'The database role can bypass row-level security', {
      details: { role: role.role, via: role.escalates_to ?? role.role },
    });
  }
  return { role: role.role };
}

/**
 * Refuse to run on a connection for which row-level security would not apply (invariant T3): call it
 * at startup with the application's pool. Checks `current_user`: not a superuser, no BYPASSRLS, not a
 * member of a role that has either (it could `SET ROLE`), and not the owner (or an inheriting member
 * of the owner) of any tenant table; each listed table exists with RLS enabled and forced.
 * @throws RlsError `RLS_SUPERUSER`, `RLS_BYPASSRLS`, `RLS_TABLE_OWNER`, `RLS_NOT_ENFORCED`
 * @throws ValidationError `VALIDATION_FAILED` on malformed options
 * @example await assertRlsEnforced(pool, { tables: ['invoices', 'customers'] });
 */
export async function assertRlsEnforced(
  db: PgQueryable,
  options: RlsCheckOptions = {},
): Promise<RlsCheckReport> {
  requireMethods(db, ['query'], 'RLS check connection', '');
  const o = parseInput(RlsCheckOptionsSchema, options, 'RLS check options');
  for (const t of o.tables ?? [])
    for (const part of t.split('.')) parseInput(PgIdentifierSchema, part, 'table name');

  const role = await assertRoleSubjectToRls(db);

  const tableRes = o.tables
    ? await db.query<TableRow>(
        `SELECT t.requested, c.oid::regclass::text AS name, c.relrowsecurity AS rls, c.relforcerowsecurity AS forced,
                pg_has_role(current_user, c.relowner, 'MEMBER') AS owned
           FROM unnest($1::text[]) AS t(requested)
           LEFT JOIN pg_class c ON c.oid = to_regclass(t.requested)`,
        [o.tables],
      )
    : await db.query<TableRow>(
        `SELECT NULL AS requested, c.oid::regclass::text AS name, c.relrowsecurity AS rls,
                c.relforcerowsecurity AS forced, pg_has_role(current_user, c.relowner, 'MEMBER') AS owned
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE c.relkind IN ('r', 'p') AND c.relrowsecurity
            AND n.nspname NOT IN ('pg_catalog', 'information_schema')`,
      );
  const missing = tableRes.rows.filter((r) => r.name === null).map((r) => r.requested);
  const unenforced = tableRes.rows.filter((r) => r.name !== null && !(r.rls && r.forced)).map((r) => r.name);
  if (missing.length > 0 || unenforced.length > 0) {
    throw new RlsError(
      'RLS_NOT_ENFORCED',
      'Tenant tables are missing or lack enabled and forced row-level security',
      {
        details: { role: role.role, missing, unenforced },
      },
    );
  }
  const owned = tableRes.rows.filter((r) => r.owned).map((r) => r.name);
  if (owned.length > 0) {
    throw new RlsError(
      'RLS_TABLE_OWNER',
      'The database role owns tenant tables and could disable their policies',
      {
        details: { role: role.role, tables: owned },
      },
    );
  }
  return { role: role.role, tables: tableRes.rows.map((r) => r.name as string) };
}
