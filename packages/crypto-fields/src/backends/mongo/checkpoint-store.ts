import type { Db } from 'mongodb';
import { type CheckpointStore, type RotationCheckpoint, checkCheckpointArgs } from '../../rotation.js';
import { mongoStoreError } from './errors.js';
import { DEFAULT_CHECKPOINTS_COLLECTION, checkMongoStoreOptions } from './indexes.js';

/** Options of {@link MongoCheckpointStore}. */
export interface MongoCheckpointStoreOptions {
  db: Db;
  /** @default 'tenantry_crypto_rotation_checkpoints' */
  collection?: string;
}

/** Rotation checkpoints in MongoDB (one document per job). */
export class MongoCheckpointStore implements CheckpointStore {
  readonly name = 'mongo';
  readonly #db: Db;
  readonly #name: string;
  constructor(options: MongoCheckpointStoreOptions) {
    checkMongoStoreOptions(options, 'mongo checkpoint store options');
    this.#db = options.db;
    this.#name = options.collection ?? DEFAULT_CHECKPOINTS_COLLECTION;
  }
  get #c() {
    return this.#db.collection<{ _id: string; checkpoint: RotationCheckpoint }>(this.#name);
  }
  async load(jobId: string): Promise<RotationCheckpoint | null> {
    checkCheckpointArgs(jobId);
    try {
      return (await this.#c.findOne({ _id: jobId }))?.checkpoint ?? null;
    } catch (error) {
      throw mongoStoreError(error, 'checkpoint.load');
    }
  }
  async save(jobId: string, checkpoint: RotationCheckpoint): Promise<void> {
    checkCheckpointArgs(jobId, checkpoint);
    try {
      await this.#c.updateOne({ _id: jobId }, { $set: { checkpoint } }, { upsert: true });
    } catch (error) {
      throw mongoStoreError(error, 'checkpoint.save');
    }
  }
  async clear(jobId: string): Promise<void> {
    checkCheckpointArgs(jobId);
    try {
      await this.#c.deleteOne({ _id: jobId });
    } catch (error) {
      throw mongoStoreError(error, 'checkpoint.clear');
    }
  }
}
