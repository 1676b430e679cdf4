import { createHash } from 'node:crypto';
import { z } from 'zod';
import { TenantryError } from '../errors.js';
import { parseInput } from '../validation.js';
import { PgIdentifierSchema, quoteIdent, quoteLiteral } from './sql-quote.js';

/** The name of a custom setting: `prefix.name`, lower snake case. */
export const TenantSettingNameSchema = z
  .string()
  .regex(/^[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*$/, 'must look like app.tenant_id')
  // PostgreSQL truncates each part to 63 bytes where it parses the name as identifiers (SET LOCAL,
  // RESET) but not in current_setting('<name>'), which the policies use: a longer part would set and
  // reset another setting than the one the policies read.
  .refine((s) => s.split('.').every((part) => part.length <= 63), 'each part must be at most 63 characters');

/** A foreign key from a tenant table to another tenant table, made composite with the tenant column. */
export const TenantForeignKeySchema = z
  .object({
    /** Referencing column(s) besides the tenant column, e.g. `['customer_id']`. */
    columns: z.array(PgIdentifierSchema).min(1).max(16),
    /** The referenced tenant table. */
    references: PgIdentifierSchema,
    /** Its schema. @default the table's schema */
    referencesSchema: PgIdentifierSchema.optional(),
    /** Referenced column(s) besides the tenant column. @default ['id'] */
    referencedColumns: z.array(PgIdentifierSchema).min(1).max(16).optional(),
    /** @default 'NO ACTION' */
    onDelete: z.enum(['NO ACTION', 'RESTRICT', 'CASCADE']).default('NO ACTION'),
  })
  .strict();

/** Input of {@link tenantTableSql}. */
export const TenantTableSqlOptionsSchema = z
  .object({
    /** The table, which must already have the tenant column (and `idColumn` if given). */
    table: PgIdentifierSchema,
    /** @default 'public' */
    schema: PgIdentifierSchema.default('public'),
    /** @default 'tenant_id' */
    tenantColumn: PgIdentifierSchema.default('tenant_id'),
    /**
     * The SQL type of the tenant column; the setting is cast to it once per statement.
     * @default 'text'
     */
    tenantColumnType: z.enum(['text', 'uuid', 'bigint', 'integer', 'varchar']).default('text'),
    /**
     * The row id column. The helper adds `UNIQUE (tenant, id)`, which is both the tenant-first index
     * the policy uses and the target of composite foreign keys from other tenant tables. `null` for a
     * table without a single id: then a plain index on the tenant column is created.
     * @default 'id'
     */
    idColumn: PgIdentifierSchema.nullable().default('id'),
    /** Composite foreign keys to other tenant tables. @default [] */
    foreignKeys: z.array(TenantForeignKeySchema).default([]),
    /** @default 'app.tenant_id' */
    setting: TenantSettingNameSchema.default('app.tenant_id'),
    /** @default 'tenant_isolation' */
    policyName: PgIdentifierSchema.default('tenant_isolation'),
  })
  .strict();
export type TenantTableSqlOptions = z.input<typeof TenantTableSqlOptionsSchema>;

/** A constraint/index name from parts, shortened with a hash when over 63 bytes so names never collide by truncation. */
function objectName(...parts: string[]): string {
  const name = parts.join('_');
  // Stryker disable next-line StringLiteral: Node's default encoding is UTF-8
  if (Buffer.byteLength(name, 'utf8') <= 63) return name;
  const hash = createHash('sha256').update(name).digest('hex').slice(0, 8);
  let head = name;
  // Stryker disable next-line StringLiteral: Node's default encoding is UTF-8
  while (Buffer.byteLength(head, 'utf8') > 54) head = head.slice(0, -1);
  return `${head}_${hash}`;
}

/**
 * The expression the policy compares the tenant column with. `current_setting(…, true)` returns NULL
 * when the setting was never set and `''` after a transaction that set it locally ended, so `NULLIF`
 * maps both to NULL, which matches no row. Wrapped in a scalar sub-select, PostgreSQL evaluates it
 * once per statement (an InitPlan) and the comparison `tenant_id = $0` can use the tenant-first index;
 * nothing is applied to the column itself.
 */
export function tenantSettingExpression(setting = 'app.tenant_id', type = 'text'): string {
  const s = parseInput(TenantSettingNameSchema, setting, 'tenant setting name');
  const t = parseInput(TenantTableSqlOptionsSchema.shape.tenantColumnType, type, 'tenant column type');
  return `(SELECT NULLIF(current_setting(${quoteLiteral(s)}, true), '')::${t})`;
}

/**
 * `statement` (an `ADD CONSTRAINT`) run only when the table has no constraint of that name, so the
 * generated SQL can run again (PostgreSQL has no `ADD CONSTRAINT IF NOT EXISTS`). The dollar-quote tag
 * is chosen so that it occurs nowhere in the body, whatever the identifiers hold.
 */
function unlessConstraintExists(table: string, name: string, statement: string): string {
  const body = `BEGIN IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint WHERE conrelid = ${quoteLiteral(table)}::regclass AND conname = ${quoteLiteral(name)}) THEN ${statement}; END IF; END`;
  let tag = '$tenantry$';
  for (let i = 0; body.includes(tag); i++) tag = `$tenantry${i}$`;
  return `DO ${tag} ${body} ${tag}`;
}

/**
 * Migration SQL for a tenant table (invariant T3), as statements to run in order, in one migration
 * (they can run again: the constraints are added only when missing, the policy is dropped and recreated):
 * 1. `ENABLE` and `FORCE ROW LEVEL SECURITY` (FORCE makes the policy bind the table owner too);
 * 2. `UNIQUE (tenant, id)` — the tenant-first index — or an index on the tenant column;
 * 3. the policy `FOR ALL … USING (tenant = <setting>) WITH CHECK (same)`, so rows of other tenants are
 *    neither visible nor writable, and with no tenant set nothing is;
 * 4. composite foreign keys `(tenant, col) REFERENCES other (tenant, id)`, so a row can never point at
 *    another tenant's row (the referenced table needs its own `UNIQUE (tenant, id)`: generate it first).
 * Every identifier is quoted. Superusers and roles with BYPASSRLS still bypass the policy: check the
 * application's connection with `assertRlsEnforced` at startup.
 * @throws ValidationError `VALIDATION_FAILED` on malformed options
 * @example
 * for (const sql of tenantTableSql({ table: 'invoices', foreignKeys: [{ columns: ['customer_id'], references: 'customers' }] }))
 *   await pool.query(sql);
 */
export function tenantTableSql(options: TenantTableSqlOptions): string[] {
  const o = parseInput(TenantTableSqlOptionsSchema, options, 'tenant table options');
  const table = `${quoteIdent(o.schema)}.${quoteIdent(o.table)}`;
  const tenant = quoteIdent(o.tenantColumn);
  const current = tenantSettingExpression(o.setting, o.tenantColumnType);
  const sql: string[] = [
    `ALTER TABLE ${table} ENABLE ROW LEVEL SECURITY`,
    `ALTER TABLE ${table} FORCE ROW LEVEL SECURITY`,
  ];
  if (o.idColumn !== null) {
    sql.push(
      unlessConstraintExists(
        table,
        objectName(o.table, o.tenantColumn, o.idColumn, 'key'),
        `ALTER TABLE ${table} ADD CONSTRAINT ${quoteIdent(objectName(o.table, o.tenantColumn, o.idColumn, 'key'))} UNIQUE (${tenant}, ${quoteIdent(o.idColumn)})`,
      ),
    );
  } else {
    sql.push(
      `CREATE INDEX IF NOT EXISTS ${quoteIdent(objectName(o.table, o.tenantColumn, 'idx'))} ON ${table} (${tenant})`,
    );
  }
  sql.push(
    `DROP POLICY IF EXISTS ${quoteIdent(o.policyName)} ON ${table}`,
    `CREATE POLICY ${quoteIdent(o.policyName)} ON ${table} AS PERMISSIVE FOR ALL USING (${tenant} = ${current}) WITH CHECK (${tenant} = ${current})`,
  );
  for (const fk of o.foreignKeys) {
    const refCols = fk.referencedColumns ?? ['id'];
    if (refCols.length !== fk.columns.length) {
      throw new TenantryError(
        'VALIDATION_FAILED',
        'Foreign key columns and referenced columns differ in number',
        {
          details: { table: o.table, references: fk.references },
        },
      );
    }
    const ref = `${quoteIdent(fk.referencesSchema ?? o.schema)}.${quoteIdent(fk.references)}`;
    const name = objectName(o.table, ...fk.columns, 'fkey');
    sql.push(
      unlessConstraintExists(
        table,
        name,
        `ALTER TABLE ${table} ADD CONSTRAINT ${quoteIdent(name)} FOREIGN KEY (${[o.tenantColumn, ...fk.columns].map(quoteIdent).join(', ')}) REFERENCES ${ref} (${[o.tenantColumn, ...refCols].map(quoteIdent).join(', ')}) ON DELETE ${fk.onDelete}`,
      ),
    );
  }
  return sql;
}
