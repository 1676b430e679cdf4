import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { tenantTableSql } from '../src/postgres.js';

// Composite foreign keys and generated names (issue 12): the names are part of users' schemas (a later
// migration drops or alters them by name), so they must stay exactly as they are across versions.

// Each ADD CONSTRAINT comes inside a `DO $tenantry$ … $tenantry$` block (so the SQL can run twice).
const unwrap = (sql: string[]) =>
  sql.map((s) =>
    s.replace(/^DO \$tenantry\$ BEGIN IF NOT EXISTS \(.*?\) THEN (.*); END IF; END \$tenantry\$$/, '$1'),
  );
const fkOf = (sql: string[]) => unwrap(sql).filter((s) => s.includes('FOREIGN KEY'));

describe('tenantTableSql: composite foreign keys', () => {
  it('a multi-column key references the same number of columns, each led by the tenant column', () => {
    const sql = tenantTableSql({
      table: 'order_lines',
      foreignKeys: [
        {
          columns: ['order_id', 'order_version'],
          references: 'orders',
          referencedColumns: ['id', 'version'],
        },
      ],
    });
    expect(fkOf(sql)).toEqual([
      'ALTER TABLE "public"."order_lines" ADD CONSTRAINT "order_lines_order_id_order_version_fkey" FOREIGN KEY ("tenant_id", "order_id", "order_version") REFERENCES "public"."orders" ("tenant_id", "id", "version") ON DELETE NO ACTION',
    ]);
  });

  it('referencedColumns names the target columns; the default is id', () => {
    const [withCols] = fkOf(
      tenantTableSql({
        table: 'invoices',
        foreignKeys: [{ columns: ['customer_code'], references: 'customers', referencedColumns: ['code'] }],
      }),
    );
    expect(withCols).toContain('REFERENCES "public"."customers" ("tenant_id", "code")');
    const [byDefault] = fkOf(
      tenantTableSql({
        table: 'invoices',
        foreignKeys: [{ columns: ['customer_id'], references: 'customers' }],
      }),
    );
    expect(byDefault).toContain('REFERENCES "public"."customers" ("tenant_id", "id") ON DELETE NO ACTION');
  });

  it.each(['NO ACTION', 'RESTRICT', 'CASCADE'] as const)('onDelete %s is written as given', (onDelete) => {
    const [fk] = fkOf(
      tenantTableSql({
        table: 'invoices',
        foreignKeys: [{ columns: ['customer_id'], references: 'customers', onDelete }],
      }),
    );
    expect(fk?.endsWith(` ON DELETE ${onDelete}`)).toBe(true);
  });

  it.each(['SET NULL', 'SET DEFAULT', 'cascade', 'CASCADE; DROP TABLE x'])(
    'onDelete %j is refused',
    (onDelete) => {
      expect(() =>
        tenantTableSql({
          table: 'invoices',
          foreignKeys: [{ columns: ['customer_id'], references: 'customers', onDelete: onDelete as never }],
        }),
      ).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
    },
  );

  it('the referenced schema defaults to the table schema, and can be another one', () => {
    const [same] = fkOf(
      tenantTableSql({ table: 't', schema: 'app', foreignKeys: [{ columns: ['c_id'], references: 'c' }] }),
    );
    expect(same).toContain('REFERENCES "app"."c" ("tenant_id", "id")');
    const [other] = fkOf(
      tenantTableSql({
        table: 't',
        schema: 'app',
        foreignKeys: [{ columns: ['c_id'], references: 'c', referencesSchema: 'crm' }],
      }),
    );
    expect(other).toContain('REFERENCES "crm"."c" ("tenant_id", "id")');
    expect(other).toContain('ALTER TABLE "app"."t" ADD CONSTRAINT');
  });

  it('several keys come out in the order given, after the policy, with a custom tenant column', () => {
    const sql = tenantTableSql({
      table: 'shipments',
      tenantColumn: 'org_id',
      foreignKeys: [
        { columns: ['order_id'], references: 'orders' },
        { columns: ['carrier_id'], references: 'carriers', onDelete: 'RESTRICT' },
      ],
    });
    expect(unwrap(sql).slice(-2)).toEqual([
      'ALTER TABLE "public"."shipments" ADD CONSTRAINT "shipments_order_id_fkey" FOREIGN KEY ("org_id", "order_id") REFERENCES "public"."orders" ("org_id", "id") ON DELETE NO ACTION',
      'ALTER TABLE "public"."shipments" ADD CONSTRAINT "shipments_carrier_id_fkey" FOREIGN KEY ("org_id", "carrier_id") REFERENCES "public"."carriers" ("org_id", "id") ON DELETE RESTRICT',
    ]);
    expect(unwrap(sql)[2]).toBe(
      'ALTER TABLE "public"."shipments" ADD CONSTRAINT "shipments_org_id_id_key" UNIQUE ("org_id", "id")',
    );
  });

  it('column counts that differ are refused, naming the table and the reference', () => {
    try {
      tenantTableSql({
        table: 'lines',
        foreignKeys: [{ columns: ['a'], references: 'orders', referencedColumns: ['id', 'version'] }],
      });
      expect.unreachable();
    } catch (e) {
      expect(e).toMatchObject({
        code: 'VALIDATION_FAILED',
        message: 'Foreign key columns and referenced columns differ in number',
        details: { table: 'lines', references: 'orders' },
      });
    }
    for (const fk of [
      { columns: [], references: 'orders' },
      { columns: Array.from({ length: 17 }, (_, i) => `c${i}`), references: 'orders' },
      { columns: ['a'], references: 'orders', referencedColumns: [] },
      { columns: ['a'], references: 'orders', extra: 1 },
    ]) {
      expect(() => tenantTableSql({ table: 'lines', foreignKeys: [fk as never] })).toThrow(
        expect.objectContaining({ code: 'VALIDATION_FAILED' }),
      );
    }
    expect(
      fkOf(
        tenantTableSql({
          table: 'lines',
          foreignKeys: [
            {
              columns: Array.from({ length: 16 }, (_, i) => `c${i}`),
              references: 'o',
              referencedColumns: Array.from({ length: 16 }, (_, i) => `r${i}`),
            },
          ],
        }),
      ),
    ).toHaveLength(1);
  });
});

describe('tenantTableSql: exact generated names', () => {
  it('keeps the names of 63 bytes as they are, and hashes longer ones to exactly the pinned value', () => {
    const name = (s: string) => /(?:CONSTRAINT|INDEX IF NOT EXISTS) "([^"]+)"/.exec(s)![1]!;
    // 63 bytes exactly: kept.
    const t63 = 'a'.repeat(63 - '_tenant_id_id_key'.length);
    expect(name(tenantTableSql({ table: t63 })[2]!)).toBe(`${t63}_tenant_id_id_key`);
    // 64 bytes: 54 bytes of the name, '_', the first 8 hex digits of SHA-256 of the full name.
    const t64 = 'a'.repeat(64 - '_tenant_id_id_key'.length);
    const full = `${t64}_tenant_id_id_key`;
    const byHand = `${full.slice(0, 54)}_${createHash('sha256').update(full).digest('hex').slice(0, 8)}`;
    expect(name(tenantTableSql({ table: t64 })[2]!)).toBe(byHand);
    expect(byHand).toBe(`${'a'.repeat(47)}_tenant_1503b8a3`); // pinned: must never change
    const long = tenantTableSql({
      table: 'customer_subscription_line_items',
      idColumn: null,
      tenantColumn: 'organisation_identifier',
      foreignKeys: [{ columns: ['subscription_identifier_value'], references: 'subscriptions' }],
    });
    expect(name(long[2]!)).toBe('customer_subscription_line_items_organisation_identifier_idx');
    expect(name(long[5]!)).toBe('customer_subscription_line_items_subscription_identifi_3ba0e0ef');
    for (const s of long) expect(Buffer.byteLength(/"([^"]+)"/.exec(s)![1]!)).toBeLessThanOrEqual(63);
  });

  it('cuts multi-byte names on a character boundary', () => {
    const table = 'é'.repeat(30); // 60 bytes
    const n = /CONSTRAINT "([^"]+)"/.exec(tenantTableSql({ table })[2]!)![1]!;
    expect(Buffer.byteLength(n)).toBeLessThanOrEqual(63);
    expect(n).toMatch(/^é+_[0-9a-f]{8}$/);
    expect(n).toBe(`${'é'.repeat(27)}_8c5fec36`); // 54 bytes of é, pinned
  });
});

describe('tenantTableSql: settings, column types and error labels', () => {
  it.each(['text', 'uuid', 'bigint', 'integer', 'varchar'] as const)('casts the setting to %s', (type) => {
    const sql = tenantTableSql({ table: 't', tenantColumnType: type });
    expect(sql[4]).toContain(`(SELECT NULLIF(current_setting('app.tenant_id', true), '')::${type})`);
  });

  it('a setting name must be exactly prefix.name in lower snake case, anchored at both ends', () => {
    for (const good of ['app.tenant_id', '_x.y_1', 'a.b']) {
      expect(tenantTableSql({ table: 't', setting: good })[4]).toContain(`current_setting('${good}', true)`);
    }
    for (const bad of [
      '1app.tenant_id',
      'Xapp.tenant_id',
      'app.tenant_id; x',
      'app.tenant_id ',
      'app',
      'a.b.c',
    ]) {
      try {
        tenantTableSql({ table: 't', setting: bad });
        expect.unreachable(bad);
      } catch (e) {
        expect(e).toMatchObject({ code: 'VALIDATION_FAILED', details: { what: 'tenant table options' } });
        expect((e as Error).message).toContain('must look like app.tenant_id');
      }
    }
  });

  it('tenantSettingExpression labels its own failures', async () => {
    const { tenantSettingExpression } = await import('../src/postgres.js');
    expect(() => tenantSettingExpression('bad')).toThrow(
      expect.objectContaining({ details: expect.objectContaining({ what: 'tenant setting name' }) }),
    );
    expect(() => tenantSettingExpression('app.tenant_id', 'json')).toThrow(
      expect.objectContaining({ details: expect.objectContaining({ what: 'tenant column type' }) }),
    );
    expect(tenantSettingExpression('app.tenant_id', 'bigint')).toBe(
      `(SELECT NULLIF(current_setting('app.tenant_id', true), '')::bigint)`,
    );
  });
});
