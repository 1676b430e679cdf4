import { describe, expect, it } from 'vitest';
import { quoteIdent, quoteLiteral, tenantSettingExpression, tenantTableSql } from '../src/postgres.js';

// Each ADD CONSTRAINT comes inside `DO $tenantry$ … IF NOT EXISTS … THEN <statement>; … $tenantry$`
// (so the SQL can run twice); compare the statements themselves.
const unwrap = (sql: string[]) =>
  sql.map((s) =>
    s.replace(/^DO \$tenantry\$ BEGIN IF NOT EXISTS \(.*?\) THEN (.*); END IF; END \$tenantry\$$/, '$1'),
  );

describe('tenantTableSql (generated SQL)', () => {
  it('enables and forces RLS, adds the tenant-first unique index, the policy and composite foreign keys', () => {
    const sql = tenantTableSql({
      table: 'invoices',
      foreignKeys: [{ columns: ['customer_id'], references: 'customers', onDelete: 'CASCADE' }],
    });
    expect(sql[2]).toBe(
      `DO $tenantry$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint WHERE conrelid = '"public"."invoices"'::regclass AND conname = 'invoices_tenant_id_id_key') THEN ALTER TABLE "public"."invoices" ADD CONSTRAINT "invoices_tenant_id_id_key" UNIQUE ("tenant_id", "id"); END IF; END $tenantry$`,
    );
    expect(unwrap(sql)).toEqual([
      'ALTER TABLE "public"."invoices" ENABLE ROW LEVEL SECURITY',
      'ALTER TABLE "public"."invoices" FORCE ROW LEVEL SECURITY',
      'ALTER TABLE "public"."invoices" ADD CONSTRAINT "invoices_tenant_id_id_key" UNIQUE ("tenant_id", "id")',
      'DROP POLICY IF EXISTS "tenant_isolation" ON "public"."invoices"',
      `CREATE POLICY "tenant_isolation" ON "public"."invoices" AS PERMISSIVE FOR ALL USING ("tenant_id" = (SELECT NULLIF(current_setting('app.tenant_id', true), '')::text)) WITH CHECK ("tenant_id" = (SELECT NULLIF(current_setting('app.tenant_id', true), '')::text))`,
      'ALTER TABLE "public"."invoices" ADD CONSTRAINT "invoices_customer_id_fkey" FOREIGN KEY ("tenant_id", "customer_id") REFERENCES "public"."customers" ("tenant_id", "id") ON DELETE CASCADE',
    ]);
  });

  it('an identifier holding the dollar-quote tag gets another tag, so it cannot end the DO block', () => {
    const [, , unique] = tenantTableSql({ table: 'x$tenantry$y' });
    expect(unique).toMatch(/^DO \$tenantry0\$ .* \$tenantry0\$$/);
    expect(unique?.split('$tenantry0$')).toHaveLength(3);
  });

  it('uses a plain tenant index when the table has no id column, and casts to the column type', () => {
    const sql = tenantTableSql({
      table: 'events',
      idColumn: null,
      tenantColumn: 'org',
      tenantColumnType: 'uuid',
      setting: 'my.org',
    });
    expect(sql[2]).toBe('CREATE INDEX IF NOT EXISTS "events_org_idx" ON "public"."events" ("org")');
    expect(sql[4]).toContain(`"org" = (SELECT NULLIF(current_setting('my.org', true), '')::uuid)`);
  });

  it('shortens long constraint names with a hash instead of letting PostgreSQL truncate them into collisions', () => {
    const a = tenantTableSql({ table: `${'t'.repeat(50)}_alpha` })[2]!;
    const b = tenantTableSql({ table: `${'t'.repeat(50)}_bravo` })[2]!;
    const name = (s: string) => /CONSTRAINT "([^"]+)"/.exec(s)![1]!;
    expect(Buffer.byteLength(name(a))).toBeLessThanOrEqual(63);
    expect(name(a)).not.toBe(name(b));
  });

  it('refuses malformed options', () => {
    expect(() => tenantTableSql({ table: 'x'.repeat(64) })).toThrow(
      expect.objectContaining({ code: 'VALIDATION_FAILED' }),
    );
    expect(() => tenantTableSql({ table: 'a', setting: "x'; DROP TABLE y; --" })).toThrow(
      expect.objectContaining({ code: 'VALIDATION_FAILED' }),
    );
    expect(() =>
      tenantTableSql({ table: 'a', foreignKeys: [{ columns: ['x', 'y'], references: 'b' }] }),
    ).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
  });

  it('quotes identifiers and literals', () => {
    expect(quoteIdent('a"b')).toBe('"a""b"');
    expect(quoteLiteral("it's")).toBe("'it''s'");
    expect(() => quoteIdent('a\u0000')).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
    expect(tenantSettingExpression()).toBe(
      `(SELECT NULLIF(current_setting('app.tenant_id', true), '')::text)`,
    );
  });
});
