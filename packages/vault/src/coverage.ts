import { type PgQueryable, TenantryError, parseInput, withSpan } from '@tenantry/core';
import { quoteIdent } from '@tenantry/core/postgres';
import { z } from 'zod';
import { VaultError } from './errors.js';
import type { VaultModule } from './module.js';
import type { ModuleRegistry } from './registry.js';

/**
 * What a module exports, for the coverage check (V5): PostgreSQL tables (`schema.table`, or `table`
 * for `public.table`) and MongoDB collections. The module factories set it; a hand-written module
 * sets it itself (`covers: { postgres: ['public.notes'] }`) or the check's `covered` option names it.
 */
export interface VaultCoverageDeclaration {
  readonly postgres?: readonly string[];
  readonly mongo?: readonly string[];
}

/** A module that declares what it exports (see {@link VaultCoverageDeclaration}). */
export type CoveringModule = VaultModule & { readonly covers?: VaultCoverageDeclaration };

/**
 * The part of a MongoDB `Db` (official driver, `client.db(name)`) that the coverage check calls. It is
 * structural so that importing `@tenantry/vault` never needs the `mongodb` package or its types.
 */
export interface CoverageMongoDb {
  listCollections(
    filter: Record<string, never>,
    options: { nameOnly: true },
  ): { toArray(): Promise<ReadonlyArray<{ name: string }>> };
  collection(name: string): {
    findOne(filter: Record<string, unknown>, options: { projection: Record<string, 1> }): Promise<unknown>;
  };
}

const NameList = z.array(z.string().min(1).max(300)).max(10_000);

/** Options of {@link checkCoverage}. */
export const CoverageOptionsSchema = z.strictObject({
  /** The registered modules; each one's `covers` declaration counts. */
  registry: z.custom<ModuleRegistry>(
    (v) => typeof v === 'object' && v !== null && typeof (v as { ordered?: unknown }).ordered === 'function',
    'must be a ModuleRegistry',
  ),
  /**
   * The PostgreSQL database to inspect: a pool or client of a role that sees every row (the table
   * owner, a superuser or a BYPASSRLS role: under row-level security without a tenant an app role
   * sees no rows, and the check would find none).
   */
  postgres: z
    .strictObject({
      pool: z.custom<PgQueryable>(
        (v) => typeof v === 'object' && v !== null && typeof (v as { query?: unknown }).query === 'function',
        'must have a query function (a pg Pool or Client)',
      ),
      /** The tenant column that marks a table as tenant-scoped. @default 'tenant_id' */
      tenantColumn: z.string().min(1).max(63).default('tenant_id'),
      /** Schemas to inspect. @default every schema but PostgreSQL's own */
      schemas: NameList.optional(),
    })
    .optional(),
  /** The MongoDB database to inspect (`client.db(name)`). */
  mongo: z
    .strictObject({
      db: z.custom<CoverageMongoDb>(
        (v) =>
          typeof v === 'object' &&
          v !== null &&
          typeof (v as { listCollections?: unknown }).listCollections === 'function',
        'must be a MongoDB Db',
      ),
      /** The field that marks a document as a tenant's. @default 'tenantId' */
      tenantField: z.string().min(1).max(200).default('tenantId'),
    })
    .optional(),
  /** Tables and collections exported by modules that do not declare `covers`. */
  covered: z.strictObject({ postgres: NameList.optional(), mongo: NameList.optional() }).optional(),
  /**
   * Tables and collections deliberately left out (caches, sessions). Names, or `prefix*` patterns.
   * @default ['tenantry_*'] (Tenantry's own bookkeeping: snapshot index, audit chains, counters)
   */
  ignore: NameList.default(['tenantry_*']),
});
/** Input of {@link checkCoverage}. */
export type CoverageOptions = z.input<typeof CoverageOptionsSchema>;

/** One tenant-scoped table or collection found by {@link checkCoverage}. */
export interface CoverageEntry {
  readonly store: 'postgres' | 'mongo';
  /** `schema.table` (PostgreSQL) or the collection name (MongoDB). */
  readonly name: string;
  /** Whether it holds at least one row with a tenant value. */
  readonly hasRows: boolean;
  /** The modules that declare it (empty when none). */
  readonly coveredBy: readonly string[];
  /** Matched by `ignore`. */
  readonly ignored: boolean;
}

/** The result of {@link checkCoverage}. */
export interface CoverageReport {
  /** `true` when no gap was found. */
  readonly ok: boolean;
  /** Every tenant-scoped table and collection, sorted by store and name. */
  readonly entries: readonly CoverageEntry[];
  /** The tables and collections that hold tenant rows no module exports (not ignored). */
  readonly gaps: readonly CoverageEntry[];
}

const qualify = (name: string): string => (name.includes('.') ? name : `public.${name}`);

function matches(patterns: readonly string[], name: string, store: 'postgres' | 'mongo'): boolean {
  const bare = store === 'postgres' ? name.slice(name.indexOf('.') + 1) : name;
  return patterns.some((p) =>
    p.endsWith('*')
      ? name.startsWith(p.slice(0, -1)) || bare.startsWith(p.slice(0, -1))
      : p === name || p === bare,
  );
}

function storeFailure(error: unknown, store: string): TenantryError {
  if (error instanceof TenantryError) return error;
  return new VaultError(
    'VAULT_STORE_UNAVAILABLE',
    `The coverage check could not inspect the ${store} database.`,
    {
      cause: error,
      details: { store, driverCode: (error as { code?: unknown } | null)?.code },
    },
  );
}

/**
 * The coverage check (invariant V5): lists every PostgreSQL table with the tenant column (and every
 * MongoDB collection with documents carrying the tenant field) and reports, as `gaps`, those that
 * hold tenant rows while no registered module declares exporting them. Empty tables are listed but
 * are not gaps. Read-only: one catalogue query, then one `EXISTS` probe per table (one `findOne` per
 * collection). Tenant-independent, so it needs no tenant context.
 * @throws ValidationError `VALIDATION_FAILED` on bad options; VaultError `VAULT_STORE_UNAVAILABLE` if a database cannot be read
 * @example
 * const report = await checkCoverage({ registry, postgres: { pool: ownerPool } });
 * if (!report.ok) console.error(report.gaps.map((g) => g.name));
 */
export async function checkCoverage(options: CoverageOptions): Promise<CoverageReport> {
  const o = parseInput(CoverageOptionsSchema, options, 'coverage options');
  return withSpan('vault', 'coverage', {}, async (span) => {
    const declared = { postgres: new Map<string, string[]>(), mongo: new Map<string, string[]>() };
    const declare = (store: 'postgres' | 'mongo', name: string, by: string): void => {
      const key = store === 'postgres' ? qualify(name) : name;
      declared[store].set(key, [...(declared[store].get(key) ?? []), by]);
    };
    for (const m of o.registry.ordered() as readonly CoveringModule[]) {
      for (const t of m.covers?.postgres ?? []) declare('postgres', String(t), m.name);
      for (const c of m.covers?.mongo ?? []) declare('mongo', String(c), m.name);
    }
    for (const t of o.covered?.postgres ?? []) declare('postgres', t, '(covered option)');
    for (const c of o.covered?.mongo ?? []) declare('mongo', c, '(covered option)');

    const entries: CoverageEntry[] = [];
    if (o.postgres) {
      const { pool, tenantColumn, schemas } = o.postgres;
      let tables: Array<{ schema: string; table: string }>;
      try {
        const res = await pool.query<{ schema: string; table: string }>(
          `SELECT n.nspname AS schema, c.relname AS table
             FROM pg_catalog.pg_attribute a
             JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
             JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
            WHERE a.attname = $1 AND a.attnum > 0 AND NOT a.attisdropped
              AND c.relkind IN ('r', 'p') AND NOT c.relispartition
              AND n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\\_%'
              AND ($2::text[] IS NULL OR n.nspname = ANY($2::text[]))
            ORDER BY 1, 2`,
          [tenantColumn, schemas ?? null],
        );
        tables = res.rows;
      } catch (e) {
        throw storeFailure(e, 'postgres');
      }
      for (const { schema, table } of tables) {
        const name = `${schema}.${table}`;
        let hasRows: boolean;
        try {
          const res = await pool.query<{ found: boolean }>(
            `SELECT EXISTS (SELECT 1 FROM ${quoteIdent(schema)}.${quoteIdent(table)} WHERE ${quoteIdent(tenantColumn)} IS NOT NULL) AS found`,
          );
          hasRows = res.rows[0]?.found === true;
        } catch (e) {
          throw storeFailure(e, 'postgres');
        }
        entries.push({
          store: 'postgres',
          name,
          hasRows,
          coveredBy: declared.postgres.get(name) ?? [],
          ignored: matches(o.ignore, name, 'postgres'),
        });
      }
    }
    if (o.mongo) {
      const { db, tenantField } = o.mongo;
      try {
        const collections = await db.listCollections({}, { nameOnly: true }).toArray();
        const names = collections
          .map((c) => c.name)
          .filter((n) => !n.startsWith('system.'))
          .sort();
        for (const name of names) {
          const found = await db
            .collection(name)
            .findOne({ [tenantField]: { $exists: true, $ne: null } }, { projection: { _id: 1 } });
          if (found === null && !declared.mongo.has(name)) continue; // no tenant documents: not tenant-scoped
          entries.push({
            store: 'mongo',
            name,
            hasRows: found !== null,
            coveredBy: declared.mongo.get(name) ?? [],
            ignored: matches(o.ignore, name, 'mongo'),
          });
        }
      } catch (e) {
        throw storeFailure(e, 'mongo');
      }
    }
    const gaps = entries.filter((e) => e.hasRows && e.coveredBy.length === 0 && !e.ignored);
    span.setAttribute('tenantry.vault.coverage.tables', entries.length);
    span.setAttribute('tenantry.vault.coverage.gaps', gaps.length);
    return { ok: gaps.length === 0, entries, gaps };
  });
}

/**
 * {@link checkCoverage}, failing when there is a gap: for a CI step or a start-up check.
 * @throws VaultError `VAULT_COVERAGE_GAPS` (`details.gaps`: the names), and the errors of {@link checkCoverage}
 */
export async function assertCoverage(options: CoverageOptions): Promise<CoverageReport> {
  const report = await checkCoverage(options);
  if (!report.ok) {
    throw new VaultError(
      'VAULT_COVERAGE_GAPS',
      `${report.gaps.length} tenant-scoped table(s) or collection(s) hold rows no registered module exports.`,
      { details: { gaps: report.gaps.map((g) => `${g.store}:${g.name}`) } },
    );
  }
  return report;
}
