import { type PgQueryable, parseInput } from '@tenantry/core';
import { z } from 'zod';
import { quoteIdent } from '@tenantry/core/postgres';
import { CryptoFieldsError } from '../../errors.js';
import { CIPHERTEXT_PREFIX } from '../../format.js';
import type { KeyCensusRow, RotationChange, RotationRow, RotationTarget } from '../../rotation.js';
import { storeError } from './errors.js';
import { quoteTable } from './schema.js';

/** Options of {@link PostgresRotationTarget}. */
export interface PostgresRotationTargetOptions {
  /** Your `pg` Pool (or a client); the target does not close it. */
  pool: PgQueryable;
  /** Table name, optionally schema-qualified. */
  table: string;
  /** Encrypted columns; a map gives the field name bound into the ciphertext when it differs from the column. */
  columns: readonly string[] | Readonly<Record<string, string>>;
  /** Primary key column (single column, any orderable type). @default 'id' */
  idColumn?: string;
  /** Tenant column. @default 'tenant_id' */
  tenantColumn?: string;
  /** Collection name bound into the ciphertexts. @default the table name */
  collection?: string;
  /** Whether values were sealed with the row id in their context. @default false */
  bindRowId?: boolean;
}

const RotationTargetOptionsSchema = z.object({
  pool: z.custom<PgQueryable>(
    (p) => typeof (p as PgQueryable | null)?.query === 'function',
    'must be a pg Pool',
  ),
  table: z.string(),
  columns: z.union([
    z.array(z.string().min(1).max(63)).min(1).max(1000),
    z.record(z.string().min(1).max(63), z.string().min(1).max(1000)),
  ]),
  idColumn: z.string().min(1).max(63).optional(),
  tenantColumn: z.string().min(1).max(63).optional(),
  collection: z.string().min(1).max(1000).optional(),
  bindRowId: z.boolean().optional(),
});

/**
 * A {@link RotationTarget} over a PostgreSQL table: keyset pagination on the primary key, and one
 * `UPDATE … FROM unnest(…) WHERE col = expected` per batch and column, so values the application wrote
 * after the job read them are left alone.
 * @example const target = new PostgresRotationTarget({ pool, table: 'tenant_settings', columns: ['smtp_password'] });
 */
export class PostgresRotationTarget implements RotationTarget {
  readonly collection: string;
  readonly fields: readonly string[];
  readonly bindRowId: boolean;
  readonly #impl: RotationTarget;
  constructor(options: PostgresRotationTargetOptions) {
    parseInput(RotationTargetOptionsSchema, options, 'postgres rotation target options');
    this.#impl = postgresRotationTarget(options);
    this.collection = this.#impl.collection;
    this.fields = this.#impl.fields;
    this.bindRowId = this.#impl.bindRowId;
  }
  scan(after: string | null, limit: number): Promise<RotationRow[]> {
    return this.#impl.scan(after, limit);
  }
  replace(changes: RotationChange[]): Promise<ReadonlySet<number>> {
    return this.#impl.replace(changes);
  }
  census(): Promise<KeyCensusRow[]> {
    return this.#impl.census();
  }
}

function postgresRotationTarget(options: PostgresRotationTargetOptions): RotationTarget {
  const pool = options.pool;
  const db: PgQueryable = {
    query: async (text, values) => {
      try {
        return await pool.query(text, values);
      } catch (error) {
        throw storeError(error, 'rotation target');
      }
    },
  };
  const t = quoteTable(options.table, 'rotation target table').quoted;
  const id = quoteIdent(options.idColumn ?? 'id');
  const tenant = quoteIdent(options.tenantColumn ?? 'tenant_id');
  const columnToField: Record<string, string> = Array.isArray(options.columns)
    ? Object.fromEntries((options.columns as string[]).map((c) => [c, c]))
    : { ...(options.columns as Record<string, string>) };
  const fieldToColumn = new Map(Object.entries(columnToField).map(([c, f]) => [f, quoteIdent(c)]));
  const fields = Object.values(columnToField);
  let idType: Promise<string> | undefined;
  const getIdType = () => {
    idType ??= db
      .query<{ t: string }>(
        `SELECT format_type(a.atttypid, a.atttypmod) AS t FROM pg_attribute a WHERE a.attrelid = $1::regclass AND a.attname = $2`,
        [t, options.idColumn ?? 'id'],
      )
      .then((r) => {
        const ty = r.rows[0]?.t;
        if (!ty || !/^[a-z0-9 _()",]+$/i.test(ty)) {
          throw new CryptoFieldsError('CRYPTO_KEY_STORE_FAILED', 'Cannot resolve the type of the id column', {
            details: { table: options.table },
          });
        }
        return ty;
      })
      .catch((error: unknown) => {
        idType = undefined; // a transient failure must not stick: the next batch asks again
        throw error;
      });
    return idType;
  };
  const select = [
    `src.${id}::text AS row_id__`,
    `src.${tenant}::text AS tenant__`,
    ...fields.map((f, i) => `src.${fieldToColumn.get(f)}::text AS c${i}__`),
  ].join(', ');

  return {
    collection: options.collection ?? options.table,
    fields,
    bindRowId: options.bindRowId ?? false,
    async scan(after, limit) {
      const ty = await getIdType();
      const res =
        after === null
          ? await db.query<Record<string, string | null>>(
              `SELECT ${select} FROM ${t} AS src ORDER BY src.${id} LIMIT $1`,
              [limit],
            )
          : await db.query<Record<string, string | null>>(
              `SELECT ${select} FROM ${t} AS src WHERE src.${id} > $1::${ty} ORDER BY src.${id} LIMIT $2`,
              [after, limit],
            );
      return res.rows.map(
        (r): RotationRow => ({
          id: r.row_id__ as string,
          tenantId: r.tenant__ as string,
          values: Object.fromEntries(fields.map((f, i) => [f, r[`c${i}__`] ?? null])),
        }),
      );
    },
    async replace(changes: RotationChange[]) {
      const ty = await getIdType();
      const applied = new Set<number>();
      const byField = new Map<string, number[]>();
      changes.forEach((c, i) => {
        const list = byField.get(c.field) ?? [];
        list.push(i);
        byField.set(c.field, list);
      });
      for (const [field, idx] of byField) {
        const col = fieldToColumn.get(field)!;
        const res = await db.query<{ ord: number }>(
          `UPDATE ${t} AS t SET ${col} = v.next
             FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int[]) AS v(id, tenant, expected, next, ord)
            WHERE t.${id} = v.id::${ty} AND t.${tenant}::text = v.tenant AND t.${col} = v.expected
          RETURNING v.ord`,
          [
            idx.map((i) => changes[i]!.id),
            idx.map((i) => changes[i]!.tenantId),
            idx.map((i) => changes[i]!.expected),
            idx.map((i) => changes[i]!.next),
            idx,
          ],
        );
        for (const r of res.rows) applied.add(r.ord);
      }
      return applied;
    },
    async census() {
      const out: KeyCensusRow[] = [];
      for (const f of fields) {
        const col = fieldToColumn.get(f)!;
        const { rows } = await db.query<{ tenant: string; key_id: string | null; n: number }>(
          `SELECT ${tenant}::text AS tenant,
                  CASE WHEN ${col} LIKE '${CIPHERTEXT_PREFIX}%' THEN split_part(${col}, ':', 3) END AS key_id,
                  count(*)::int AS n
             FROM ${t} WHERE ${col} IS NOT NULL GROUP BY 1, 2 ORDER BY 1, 2`,
        );
        for (const r of rows) out.push({ tenantId: r.tenant, field: f, keyId: r.key_id, count: r.n });
      }
      return out;
    },
  };
}
