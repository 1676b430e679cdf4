import type { PgQueryable } from '@tenantry/core';
import { alreadyVoided, checkVoid, type VoidRecord } from '../../counter-store.js';
import type { CounterKey } from '../../series.js';
import { mapPgError } from './errors.js';

const VOID_SQL = `INSERT INTO tenantry_sequencer_voids (tenant, series, period, number, reason, voided_at)
SELECT $1, $2, $3, $4::bigint, $5, $6 FROM tenantry_sequencer_counters c
 WHERE c.tenant = $1 AND c.series = $2 AND c.period = $3 AND $4::bigint >= $7::bigint AND $4::bigint <= c.last_value
ON CONFLICT DO NOTHING RETURNING number`;

/** Insert a void row if `number` was committed and not voided yet. @internal */
export async function pgRecordVoid(
  db: PgQueryable,
  key: CounterKey,
  record: VoidRecord,
  waitMs = 0,
): Promise<void> {
  try {
    const { rows } = await db.query(VOID_SQL, [
      key.tenant,
      key.series,
      key.period,
      record.number,
      record.reason,
      record.voidedAt,
      key.start,
    ]);
    if (rows.length === 1) return;
    const existing = await db.query(
      'SELECT 1 FROM tenantry_sequencer_voids WHERE tenant = $1 AND series = $2 AND period = $3 AND number = $4',
      [key.tenant, key.series, key.period, record.number],
    );
    if (existing.rows.length > 0) throw alreadyVoided(key, record.number);
    checkVoid(key, null, record.number);
  } catch (e) {
    throw mapPgError(e, key, waitMs);
  }
}

/** List void rows of one counter. @internal */
export async function pgListVoids(db: PgQueryable, key: CounterKey): Promise<VoidRecord[]> {
  try {
    // The time as epoch milliseconds, not as a timestamptz: a driver parses the server's text form of a
    // timestamp only in the ISO DateStyle (node-postgres answers null under `SQL, DMY`).
    const { rows } = await db.query<{ number: string; reason: string; voided_ms: string }>(
      `SELECT number, reason, floor(extract(epoch FROM voided_at) * 1000)::bigint AS voided_ms FROM tenantry_sequencer_voids
        WHERE tenant = $1 AND series = $2 AND period = $3 ORDER BY number`,
      [key.tenant, key.series, key.period],
    );
    return rows.map((r) =>
      Object.freeze({ number: Number(r.number), reason: r.reason, voidedAt: new Date(Number(r.voided_ms)) }),
    );
  } catch (e) {
    throw mapPgError(e, key, 0);
  }
}
