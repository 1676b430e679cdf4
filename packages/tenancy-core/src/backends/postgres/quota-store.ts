import type { Migration } from '../../kernel/migrations.js';
import { z } from 'zod';
import type { PgQueryable } from '../../kernel/drivers.js';
import {
  QuotaAmountSchema,
  QuotaConsumeRequestSchema,
  type QuotaConsumeRequest,
  type QuotaConsumeResult,
  type QuotaCounterRef,
  type QuotaStore,
} from '../../platform/quotas/quota-store.js';
import { mapPostgresDriverError } from './driver-errors.js';
import { quoteIdent } from '../../kernel/rls/sql-quote.js';
import { ValidationError, parseInput } from '../../kernel/validation.js';

/** The options of {@link PostgresQuotaStore} besides the pool. */
export const PostgresQuotaStoreOptionsSchema = z
  .object({
    /** The counters table (optionally `schema.table`). @default 'tenantry_quota_usage' */
    table: z
      .string()
      .regex(
        /^([a-z_][a-z0-9_]{0,62}\.)?[a-z_][a-z0-9_]{0,62}$/,
        'must be [schema.]table in lower snake case',
      )
      .default('tenantry_quota_usage'),
  })
  .strict();
/** Options of {@link PostgresQuotaStore}: your pool plus {@link PostgresQuotaStoreOptionsSchema}. */
export type PostgresQuotaStoreOptions = z.input<typeof PostgresQuotaStoreOptionsSchema> & {
  /** Your `pg` Pool (or client); the store does not close it. */
  pool: PgQueryable;
};

/**
 * The SQL that creates the counters table (idempotent). Put it in your migrations, or call
 * {@link PostgresQuotaStore.ensureSchema}. The primary key starts with the tenant (Citus-friendly).
 */
export function quotaUsageTableSql(table = 'tenantry_quota_usage'): string {
  const t = parseInput(PostgresQuotaStoreOptionsSchema, { table }, 'quota table').table;
  const q = t.split('.').map(quoteIdent).join('.');
  return `CREATE TABLE IF NOT EXISTS ${q} (
  tenant_id text NOT NULL,
  quota text NOT NULL,
  window_start bigint NOT NULL,
  used bigint NOT NULL CHECK (used >= 0),
  expires_at bigint NOT NULL,
  PRIMARY KEY (tenant_id, quota, window_start)
)`;
}

/**
 * Quota counters in PostgreSQL: one row per (tenant, quota, window). Consuming is a single
 * `INSERT … ON CONFLICT DO UPDATE … WHERE used + amount <= limit`, so the row lock serialises
 * concurrent consumers in every process and a refused request changes nothing. Works through
 * PgBouncer in transaction mode (no session state). Call {@link PostgresQuotaStore.purgeExpired}
 * from a periodic job to delete finished windows.
 * @example const store = new PostgresQuotaStore({ pool }); await store.ensureSchema();
 */
export class PostgresQuotaStore implements QuotaStore {
  readonly kind = 'postgres';
  readonly #table: string;
  readonly #raw: string;

  private readonly db: PgQueryable;

  constructor(options: PostgresQuotaStoreOptions) {
    // Only an object is destructured: `...rest` of a string copies every character (10 MB → seconds).
    const { pool, ...rest } = (
      typeof options === 'object' && options !== null ? options : {}
    ) as PostgresQuotaStoreOptions;
    if (typeof pool?.query !== 'function') {
      throw new ValidationError('postgres quota store options', [
        { path: ['pool'], message: 'must be a pg Pool or client' },
      ]);
    }
    this.db = pool;
    this.#raw = parseInput(PostgresQuotaStoreOptionsSchema, rest, 'postgres quota store options').table;
    this.#table = this.#raw.split('.').map(quoteIdent).join('.');
  }

  async #query<R>(text: string, values?: unknown[]): Promise<{ rows: R[]; rowCount: number | null }> {
    try {
      return await this.db.query<R>(text, values);
    } catch (error) {
      throw mapPostgresDriverError(error, 'runMigrations(pool, coreQuotaMigrations) or store.ensureSchema()');
    }
  }

  /** Create the counters table if it does not exist. */
  async ensureSchema(): Promise<void> {
    await this.#query(quotaUsageTableSql(this.#raw));
  }

  async consume(request: QuotaConsumeRequest): Promise<QuotaConsumeResult> {
    const r = parseInput(QuotaConsumeRequestSchema, request, 'quota consume request');
    if (r.amount > r.limit) return { granted: false, used: await this.peek(r, r.now) };
    // An expired row (a window reused after its expiry, which only a far-off clock can cause) restarts at 0.
    const res = await this.#query<{ used: string }>(
      `INSERT INTO ${this.#table} AS q (tenant_id, quota, window_start, used, expires_at)
       VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (tenant_id, quota, window_start) DO UPDATE
         SET used = CASE WHEN q.expires_at <= $7 THEN EXCLUDED.used ELSE q.used + EXCLUDED.used END,
             expires_at = GREATEST(q.expires_at, EXCLUDED.expires_at)
         WHERE q.expires_at <= $7 OR q.used + EXCLUDED.used <= $6
       RETURNING used`,
      [r.tenantId, r.quota, r.windowStart, r.amount, r.expiresAt, r.limit, r.now],
    );
    const row = res.rows[0];
    if (row) return { granted: true, used: Number(row.used) };
    return { granted: false, used: await this.peek(r, r.now) };
  }

  async peek(ref: QuotaCounterRef, now: number): Promise<number> {
    const res = await this.#query<{ used: string }>(
      `SELECT used FROM ${this.#table} WHERE tenant_id = $1 AND quota = $2 AND window_start = $3 AND expires_at > $4`,
      [ref.tenantId, ref.quota, ref.windowStart, now],
    );
    return Number(res.rows[0]?.used ?? 0);
  }

  async refund(ref: QuotaCounterRef, amount: number, now: number): Promise<number> {
    parseInput(QuotaAmountSchema, amount, 'refund amount');
    const res = await this.#query<{ used: string }>(
      `UPDATE ${this.#table} SET used = GREATEST(0, used - $4)
       WHERE tenant_id = $1 AND quota = $2 AND window_start = $3 AND expires_at > $5 RETURNING used`,
      [ref.tenantId, ref.quota, ref.windowStart, amount, now],
    );
    return Number(res.rows[0]?.used ?? 0);
  }

  /**
   * Delete counters whose windows (plus grace) ended before `now`. Returns how many were deleted.
   * @example setInterval(() => store.purgeExpired(Date.now()), 3_600_000);
   */
  async purgeExpired(now: number): Promise<number> {
    const res = await this.#query(`DELETE FROM ${this.#table} WHERE expires_at <= $1`, [now]);
    return res.rowCount ?? 0;
  }
}

/**
 * The quota table as a versioned migration for {@link runMigrations} (component `core-quota`), for
 * hosts that apply Tenantry's schema with the same runner as `coreModelMigrations`.
 * @example await runMigrations(pool, [...coreModelMigrations, ...coreQuotaMigrations]);
 */
export const coreQuotaMigrations: readonly Migration[] = Object.freeze([
  { component: 'core-quota', version: 1, name: 'quota usage counters', sql: quotaUsageTableSql() },
]);
