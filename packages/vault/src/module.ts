import { z } from 'zod';

/** What a module's `export`, `import` and `clean` receive. */
export interface VaultModuleContext {
  /** The tenant whose data is exported, cleaned or imported (already resolved with core's `resolveTenantId`). */
  readonly tenantId: string;
  /** Aborts a long run; a module should stop reading or writing when it fires. */
  readonly signal?: AbortSignal;
  /**
   * The transaction handle of the module's {@link VaultTransactionScope} when the restore runs every
   * module inside one transaction (the scope's `run` made it); `undefined` otherwise, and the module
   * opens its own unit of work.
   */
  readonly transaction?: unknown;
  /**
   * Export only: records the module's layout (e.g. a table's column names and types), stored in the
   * snapshot's manifest entry for the module, which the manifest MAC authenticates.
   */
  readonly setLayout?: (layout: VaultModuleLayout) => void;
  /** Import only: the layout the snapshot's writer recorded with `setLayout` (absent in older snapshots). */
  readonly layout?: VaultModuleLayout;
}

/** A module's record layout as stored in a snapshot's manifest (JSON). */
export type VaultModuleLayout = Readonly<Record<string, unknown>>;

/**
 * A store that can run several modules' clean and import steps in one transaction. Modules that
 * share the same scope object (the same database) are restored all-or-nothing in one transaction
 * when every module of the snapshot shares it; otherwise the restore takes a safety snapshot first.
 */
export interface VaultTransactionScope {
  /** A name for spans and audit metadata, e.g. `postgres`. */
  readonly name: string;
  /**
   * Run `fn` in one transaction for the tenant (committed when `fn` resolves, rolled back when it
   * throws). `readOnly` asks for a read-only transaction with one consistent view (a snapshot's export).
   */
  run<R>(
    tenantId: string,
    fn: (transaction: unknown) => Promise<R>,
    options?: { readOnly?: boolean },
  ): Promise<R>;
}

/** Upgrades one record from schema version `n` to `n + 1` (keyed by `n`). */
export type VaultRecordUpgrade = (record: Uint8Array) => Uint8Array | Promise<Uint8Array>;

/**
 * One feature's data, as the vault sees it: a stream of opaque records per tenant (one record = one
 * row or document, serialised by the module), in the module's own format.
 * @example
 * const notes: VaultModule = {
 *   name: 'notes', schemaVersion: 1, dependsOn: ['users'],
 *   async *export({ tenantId }) { for (const n of db.notesOf(tenantId)) yield encode(n); },
 *   async import({ tenantId }, records) { for await (const r of records) db.insert(tenantId, decode(r)); },
 *   async clean({ tenantId }) { db.deleteNotesOf(tenantId); },
 * };
 */
export interface VaultModule {
  /** Unique name, `[a-z0-9][a-z0-9._-]{0,63}`. */
  readonly name: string;
  /** Version of the record format, a positive integer; raise it when the format changes. */
  readonly schemaVersion: number;
  /** Names of modules whose data this one references (restored before it, cleaned after it). @default [] */
  readonly dependsOn?: readonly string[];
  /** The transaction scope of the module's store, when it has one (see {@link VaultTransactionScope}). */
  readonly transactions?: VaultTransactionScope;
  /**
   * Streams the tenant's records (backpressure: the vault pulls). Each item is one record, or an
   * array of records (a batch: cheaper for many small rows).
   */
  export(context: VaultModuleContext): AsyncIterable<Uint8Array | readonly Uint8Array[]>;
  /** Writes the records into the (clean) tenant. */
  import(context: VaultModuleContext, records: AsyncIterable<Uint8Array>): Promise<void>;
  /** Deletes every record of the tenant (only the tenant's: invariant V1). */
  clean(context: VaultModuleContext): Promise<void>;
  /**
   * Checks, before the restore deletes anything, that the snapshot's layout (`context.layout`) can be
   * imported into the store as it is now; throws (e.g. `VAULT_SCHEMA_MISMATCH`) when it cannot.
   */
  checkLayout?(context: VaultModuleContext): Promise<void>;
  /** Upgrades from older schema versions: `upgrades[n]` turns a version-n record into version n+1. */
  readonly upgrades?: Readonly<Record<number, VaultRecordUpgrade>>;
  /**
   * A readable form of one record for the GDPR export (JSON lines): field name → value. Values that
   * are crypto-fields ciphertexts are decrypted by the export where the caller holds the keys.
   */
  toJson?(record: Uint8Array): Record<string, unknown>;
  /**
   * Fields of {@link toJson}'s output that hold crypto-fields ciphertexts, with the context they were
   * sealed under (collection; the row id taken from another field, when sealed with one).
   */
  readonly encryptedFields?: Readonly<
    Record<string, { collection: string; field?: string; rowIdField?: string }>
  >;
}

/** A module name: `[a-z0-9][a-z0-9._-]{0,63}`. */
export const ModuleNameSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'must be 1-64 chars of [a-z0-9._-], starting alphanumeric');

const isFunction = (v: unknown): boolean => typeof v === 'function';

/** The declaration of a {@link VaultModule} (its functions checked by presence). */
export const VaultModuleSchema = z.object({
  name: ModuleNameSchema,
  schemaVersion: z.number().int().min(1).max(1_000_000),
  dependsOn: z.array(ModuleNameSchema).max(1000).optional(),
  transactions: z
    .custom<VaultTransactionScope>(
      (v) => typeof v === 'object' && v !== null && isFunction((v as { run?: unknown }).run),
      'must have a run function',
    )
    .optional(),
  export: z.custom<VaultModule['export']>(isFunction, 'must be a function'),
  import: z.custom<VaultModule['import']>(isFunction, 'must be a function'),
  clean: z.custom<VaultModule['clean']>(isFunction, 'must be a function'),
  checkLayout: z.custom<NonNullable<VaultModule['checkLayout']>>(isFunction, 'must be a function').optional(),
  upgrades: z
    .record(
      z.string().regex(/^[1-9][0-9]{0,6}$/),
      z.custom<VaultRecordUpgrade>(isFunction, 'must be a function'),
    )
    .optional(),
  toJson: z.custom<NonNullable<VaultModule['toJson']>>(isFunction, 'must be a function').optional(),
  encryptedFields: z
    .record(
      z.string().min(1).max(200),
      z.object({
        collection: z.string().min(1).max(1000),
        field: z.string().min(1).max(1000).optional(),
        rowIdField: z.string().min(1).max(200).optional(),
      }),
    )
    .optional(),
});
