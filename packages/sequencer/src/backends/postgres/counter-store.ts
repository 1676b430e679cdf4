import { assertChange, assertCounterKey } from '../../counter-store.js';
import type { PgQueryable } from '@tenantry/core';
import {
  type CounterState,
  type CounterStore,
  conflict,
  fenced,
  type VoidRecord,
} from '../../counter-store.js';
import type { CounterKey } from '../../series.js';
import { mapPgError, requirePool, toNumber } from './errors.js';
import { pgListVoids, pgRecordVoid } from './voids.js';

type Row = { last_value: string | null; last_issue_date: string | null; fence: string };
const state = (r: Row | undefined): CounterState => ({
  mark: toNumber(r?.last_value),
  lastIssueDate: r?.last_issue_date ?? null,
});
const COLS = "c.last_value, to_char(c.last_issue_date, 'YYYY-MM-DD') AS last_issue_date, c.fence";

/** Options of {@link PostgresCounterStore}. */
export interface PostgresCounterStoreOptions {
  /** The user's `pg` Pool (or a client); the store never closes it. */
  pool: PgQueryable;
}

/**
 * PostgreSQL counter store for the callback form (`createLockedSequencer`), on the migrated tables.
 * Every call is one statement; fences are checked in the `WHERE` of the write.
 * For documents in the same PostgreSQL database, prefer `createPostgresSequencer` (in-transaction).
 * @example const store = new PostgresCounterStore({ pool });
 */
export class PostgresCounterStore implements CounterStore {
  readonly kind = 'postgres';
  readonly capabilities = Object.freeze({ sharesTransactionWithDocuments: true, ownsConnection: false });
  readonly #db: PgQueryable;

  /** @param options.pool a `pg` Pool (or client) the store queries; not closed by the store */
  constructor(options: PostgresCounterStoreOptions) {
    this.#db = requirePool(options, 'PostgresCounterStore');
  }

  async #q(key: CounterKey, text: string, values: unknown[]): Promise<Row[]> {
    try {
      return (await this.#db.query<Row>(text, values)).rows;
    } catch (e) {
      throw mapPgError(e, key, 0);
    }
  }

  async read(key: CounterKey, fence: number): Promise<CounterState> {
    assertCounterKey(key);
    assertChange({ fence }, ['fence']);
    const rows = await this.#q(
      key,
      `INSERT INTO tenantry_sequencer_counters AS c (tenant, series, period, last_value, fence)
       VALUES ($1, $2, $3, NULL, $4)
       ON CONFLICT (tenant, series, period) DO UPDATE SET fence = EXCLUDED.fence WHERE c.fence <= EXCLUDED.fence
       RETURNING ${COLS}`,
      [key.tenant, key.series, key.period, fence],
    );
    if (rows.length === 0) throw fenced(key, fence, await this.#seenFence(key));
    return state(rows[0]);
  }

  /** The highest fence seen for a counter (failure path only). */
  async #seenFence(key: CounterKey): Promise<number | undefined> {
    const row = (
      await this.#q(
        key,
        'SELECT fence FROM tenantry_sequencer_counters WHERE tenant = $1 AND series = $2 AND period = $3',
        [key.tenant, key.series, key.period],
      )
    )[0];
    return row === undefined ? undefined : Number(row.fence);
  }

  async peek(key: CounterKey): Promise<CounterState> {
    assertCounterKey(key);
    const rows = await this.#q(
      key,
      `SELECT ${COLS} FROM tenantry_sequencer_counters c WHERE tenant = $1 AND series = $2 AND period = $3`,
      [key.tenant, key.series, key.period],
    );
    return state(rows[0]);
  }

  async advance(
    key: CounterKey,
    change: { from: number | null; to: number; fence: number; issueDate?: string | undefined },
  ): Promise<void> {
    assertCounterKey(key);
    assertChange(change, ['from', 'to', 'fence', 'issueDate']);
    const rows = await this.#q(
      key,
      `INSERT INTO tenantry_sequencer_counters AS c (tenant, series, period, last_value, fence, last_issue_date)
       SELECT $1, $2, $3, $5::bigint, $6::bigint, $7::date WHERE $4::bigint IS NULL
       ON CONFLICT (tenant, series, period) DO UPDATE
         SET last_value = EXCLUDED.last_value, fence = EXCLUDED.fence,
             last_issue_date = GREATEST(c.last_issue_date, EXCLUDED.last_issue_date)
         WHERE c.fence <= EXCLUDED.fence AND c.last_value IS NOT DISTINCT FROM $4::bigint
       RETURNING ${COLS}`,
      [key.tenant, key.series, key.period, change.from, change.to, change.fence, change.issueDate ?? null],
    );
    if (rows.length === 1) return;
    if (change.from !== null) {
      const updated = await this.#q(
        key,
        `UPDATE tenantry_sequencer_counters c SET last_value = $5, fence = $6,
           last_issue_date = GREATEST(c.last_issue_date, $7::date)
         WHERE tenant = $1 AND series = $2 AND period = $3 AND c.fence <= $6 AND c.last_value = $4
         RETURNING ${COLS}`,
        [key.tenant, key.series, key.period, change.from, change.to, change.fence, change.issueDate ?? null],
      );
      if (updated.length === 1) return;
    }
    const row = (
      await this.#q(
        key,
        'SELECT fence FROM tenantry_sequencer_counters WHERE tenant = $1 AND series = $2 AND period = $3',
        [key.tenant, key.series, key.period],
      )
    )[0];
    if (row !== undefined && Number(row.fence) > change.fence)
      throw fenced(key, change.fence, Number(row.fence));
    throw conflict(key);
  }

  async recover(key: CounterKey, change: { committed: number | null; fence: number }): Promise<CounterState> {
    assertCounterKey(key);
    assertChange(change, ['committed', 'fence']);
    const rows = await this.#q(
      key,
      `INSERT INTO tenantry_sequencer_counters AS c (tenant, series, period, last_value, fence)
       VALUES ($1, $2, $3, $4::bigint, $5)
       ON CONFLICT (tenant, series, period) DO UPDATE
         SET last_value = GREATEST(c.last_value, EXCLUDED.last_value), fence = EXCLUDED.fence
         WHERE c.fence <= EXCLUDED.fence
       RETURNING ${COLS}`,
      [key.tenant, key.series, key.period, change.committed, change.fence],
    );
    if (rows.length === 0) throw fenced(key, change.fence);
    return state(rows[0]);
  }

  recordVoid(key: CounterKey, record: VoidRecord): Promise<void> {
    assertCounterKey(key);
    assertChange(record, ['number', 'record']);
    return pgRecordVoid(this.#db, key, record);
  }

  listVoids(key: CounterKey): Promise<VoidRecord[]> {
    assertCounterKey(key);
    return pgListVoids(this.#db, key);
  }
}
