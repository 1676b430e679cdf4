import { parseInput } from '@tenantry/core';
import type { Collection, Document } from 'mongodb';
import { z } from 'zod';
import { VaultError } from '../../errors.js';
import { ModuleNameSchema, type VaultModule, type VaultModuleContext } from '../../module.js';
import type { CoveringModule } from '../../coverage.js';
import { mapMongoError } from './errors.js';

/** The BSON codec the module uses: pass `BSON` from the `mongodb` package. */
export interface BsonCodec {
  serialize(document: Document): Uint8Array;
  deserialize(bytes: Uint8Array): Document;
  /** For the GDPR export's readable form (relaxed Extended JSON), when present. */
  readonly EJSON?: { serialize(value: unknown, options?: { relaxed?: boolean }): unknown };
}

/** Options of {@link mongoCollectionModule}. */
export const MongoCollectionModuleOptionsSchema = z
  .object({
    /** Module name. @default the collection's name */
    name: ModuleNameSchema.optional(),
    /** @default 'tenantId' */
    tenantField: z
      .string()
      .min(1)
      .max(200)
      .regex(/^[^$.][^.]*$/, 'must be a top-level field name')
      .default('tenantId'),
    /** @default 1 */
    schemaVersion: z.number().int().min(1).default(1),
    /** @default [] */
    dependsOn: z.array(ModuleNameSchema).max(1000).default([]),
    /** Documents per `insertMany` on import. @default 1000 */
    batchSize: z.number().int().min(1).max(100_000).default(1000),
    upgrades: z
      .record(
        z.string(),
        z.custom<(r: Uint8Array) => Uint8Array>((v) => typeof v === 'function'),
      )
      .optional(),
    encryptedFields: z
      .record(
        z.string(),
        z.object({
          collection: z.string().min(1),
          field: z.string().min(1).optional(),
          rowIdField: z.string().min(1).optional(),
        }),
      )
      .optional(),
  })
  .strict();
export type MongoCollectionModuleOptions = z.input<typeof MongoCollectionModuleOptionsSchema>;

/**
 * A data module for one MongoDB collection filtered by a tenant field (official driver). A record is
 * one BSON document without the tenant field (the vault writes the tenant being restored on import,
 * so a record lands only in that tenant: V1). Export streams `find({ tenant })` sorted by `_id`;
 * import `insertMany` in batches; clean `deleteMany({ tenant })`. It has no shared transaction scope
 * (MongoDB transactions need a replica set and a bounded size), so a restore that includes it takes a
 * safety snapshot first.
 * @example registry.register(mongoCollectionModule(db.collection('notes'), BSON, { dependsOn: ['users'] }));
 */
export function mongoCollectionModule(
  collection: Collection<Document>,
  bson: BsonCodec,
  options: MongoCollectionModuleOptions = {},
): VaultModule {
  if (
    typeof collection?.find !== 'function' ||
    typeof bson?.serialize !== 'function' ||
    typeof bson?.deserialize !== 'function'
  ) {
    throw new VaultError(
      'VAULT_CONFIG_INVALID',
      'mongoCollectionModule needs a MongoDB collection and the BSON codec of the mongodb package',
    );
  }
  const o = parseInput(MongoCollectionModuleOptionsSchema, options, 'mongo collection module options');
  const field = o.tenantField;
  const name = o.name ?? parseInput(ModuleNameSchema, collection.collectionName.toLowerCase(), 'module name');
  const wrap = async <R>(fn: () => Promise<R>): Promise<R> => {
    try {
      return await fn();
    } catch (error) {
      throw mapMongoError(error, 'module');
    }
  };

  return Object.freeze({
    name,
    schemaVersion: o.schemaVersion,
    dependsOn: o.dependsOn,
    // What the coverage check (V5) counts as exported.
    covers: { mongo: [collection.collectionName] },
    ...(o.upgrades
      ? { upgrades: Object.fromEntries(Object.entries(o.upgrades).map(([k, v]) => [Number(k), v])) }
      : {}),
    ...(o.encryptedFields ? { encryptedFields: o.encryptedFields } : {}),
    async *export(context: VaultModuleContext): AsyncIterable<Uint8Array> {
      const cursor = collection.find({ [field]: context.tenantId }).sort({ _id: 1 });
      try {
        for await (const doc of cursor) {
          const { [field]: _tenant, ...rest } = doc;
          yield bson.serialize(rest);
        }
      } catch (error) {
        throw mapMongoError(error, 'module');
      } finally {
        await cursor.close().catch(() => undefined);
      }
    },
    async import(context: VaultModuleContext, records: AsyncIterable<Uint8Array>): Promise<void> {
      let batch: Document[] = [];
      const flush = async (): Promise<void> => {
        if (batch.length === 0) return;
        const docs = batch;
        batch = [];
        await wrap(() => collection.insertMany(docs, { ordered: true }));
      };
      for await (const record of records) {
        batch.push({ ...bson.deserialize(record), [field]: context.tenantId });
        if (batch.length >= o.batchSize) await flush();
      }
      await flush();
    },
    async clean(context: VaultModuleContext): Promise<void> {
      await wrap(() => collection.deleteMany({ [field]: context.tenantId }));
    },
    toJson(record: Uint8Array): Record<string, unknown> {
      const doc = bson.deserialize(record);
      return (bson.EJSON ? bson.EJSON.serialize(doc, { relaxed: true }) : doc) as Record<string, unknown>;
    },
  } satisfies CoveringModule);
}
