import { type PgQueryable, parseInput } from '@tenantry/core';
import { z } from 'zod';
import { type CheckpointStore, type RotationCheckpoint, checkCheckpointArgs } from '../../rotation.js';
import { storeError } from './errors.js';
import { DEFAULT_CHECKPOINTS_TABLE, PostgresTableNameSchema, quoteTable } from './schema.js';

/** Options of {@link PostgresCheckpointStore}. */
export interface PostgresCheckpointStoreOptions {
  /** Your `pg` Pool (or a client); the store does not close it. */
  pool: PgQueryable;
  /** Table name, optionally schema-qualified. @default 'tenantry_crypto_rotation_checkpoints' */
  table?: string;
}

/**
 * Rotation checkpoints in PostgreSQL (one row per job). The table comes with `cryptoFieldsMigrations`.
 * @example const checkpoints = new PostgresCheckpointStore({ pool });
 */
export class PostgresCheckpointStore implements CheckpointStore {
  readonly name = 'postgres';
  readonly #db: PgQueryable;
  readonly #t: string;
  constructor(options: PostgresCheckpointStoreOptions) {
    if (typeof options !== 'object' || options === null || typeof options.pool?.query !== 'function') {
      parseInput(
        z.object({ pool: z.custom<PgQueryable>((p) => typeof (p as PgQueryable)?.query === 'function') }),
        options,
        'postgres checkpoint store options',
      );
    }
    this.#db = options.pool;
    const table = parseInput(PostgresTableNameSchema.optional(), options.table, 'checkpoints table');
    this.#t = quoteTable(table ?? DEFAULT_CHECKPOINTS_TABLE, 'checkpoints table').quoted;
  }
  async #query<R>(operation: string, sql: string, params: unknown[]): Promise<{ rows: R[] }> {
    try {
      return await this.#db.query<R>(sql, params);
    } catch (error) {
      throw storeError(error, operation);
    }
  }
  async load(jobId: string): Promise<RotationCheckpoint | null> {
    checkCheckpointArgs(jobId);
    const { rows } = await this.#query<{ checkpoint: RotationCheckpoint }>(
      'checkpoint.load',
      `SELECT checkpoint FROM ${this.#t} WHERE job_id = $1`,
      [jobId],
    );
    return rows[0]?.checkpoint ?? null;
  }
  async save(jobId: string, checkpoint: RotationCheckpoint): Promise<void> {
    checkCheckpointArgs(jobId, checkpoint);
    await this.#query(
      'checkpoint.save',
      `INSERT INTO ${this.#t} (job_id, checkpoint, updated_at) VALUES ($1, $2, now())
       ON CONFLICT (job_id) DO UPDATE SET checkpoint = EXCLUDED.checkpoint, updated_at = now()`,
      [jobId, JSON.stringify(checkpoint)],
    );
  }
  async clear(jobId: string): Promise<void> {
    checkCheckpointArgs(jobId);
    await this.#query('checkpoint.clear', `DELETE FROM ${this.#t} WHERE job_id = $1`, [jobId]);
  }
}
