import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { type PgPoolClientLike, parseInput } from '@tenantry/core';
import { PgIdentifierSchema, quoteIdent, quoteLiteral } from '@tenantry/core/postgres';
import copyStreams from 'pg-copy-streams';
import { z } from 'zod';
import { VaultError } from '../../errors.js';
import {
  ModuleNameSchema,
  type VaultModule,
  type VaultModuleContext,
  type VaultTransactionScope,
} from '../../module.js';
import type { CoveringModule } from '../../coverage.js';
import { parseCopyTextRow } from './copy-text.js';
import { markConnectionUnusable, markConnectionUsable } from './transaction-scope.js';

/** Options of {@link postgresTableModule}. */
export const PostgresTableModuleOptionsSchema = z
  .object({
    /** Module name. @default the table name */
    name: ModuleNameSchema.optional(),
    table: PgIdentifierSchema,
    /** @default 'public' */
    schema: PgIdentifierSchema.default('public'),
    /** @default 'tenant_id' */
    tenantColumn: PgIdentifierSchema.default('tenant_id'),
    /**
     * Columns to copy besides the tenant column, in this order. @default every stored column of the
     * table in column order (generated columns left out), read when each operation starts
     */
    columns: z.array(PgIdentifierSchema).min(1).max(1600).optional(),
    /**
     * How rows go in. PostgreSQL refuses `COPY FROM` into a table whose RLS applies to the role, so
     * `auto` copies into a temporary staging table and moves the rows with `INSERT … SELECT` (RLS
     * checks every row) when RLS is active for the role, and copies straight into the table otherwise.
     * @default 'auto'
     */
    importVia: z.enum(['auto', 'copy', 'staging']).default('auto'),
    /** @default 1 */
    schemaVersion: z.number().int().min(1).default(1),
    /** @default [] */
    dependsOn: z.array(ModuleNameSchema).max(1000).default([]),
    /** Upgrade functions per old schema version (see `VaultModule.upgrades`). */
    upgrades: z
      .record(
        z.string(),
        z.custom<(r: Uint8Array) => Uint8Array>((v) => typeof v === 'function'),
      )
      .optional(),
    /** crypto-fields columns for the GDPR export (see `VaultModule.encryptedFields`). */
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
export type PostgresTableModuleOptions = z.input<typeof PostgresTableModuleOptionsSchema>;

const BATCH = 64 * 1024;
const NEWLINE = 0x0a;

/** node-postgres' `client.query(submittable)` (pg-copy-streams), which core's structural type does not declare. */
type CopyClient = { query<T>(submittable: T): T };

/** A column as recorded in the snapshot (the module's layout): name and `format_type` of its type. */
type Column = { name: string; type: string };

async function stableColumns(
  client: PgPoolClientLike,
  qualified: string,
  tenantColumn: string,
): Promise<Column[]> {
  const r = await client.query<{ name: string; type: string }>(
    `SELECT attname AS name, format_type(atttypid, atttypmod) AS type FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped AND attgenerated = '' ORDER BY attnum`,
    [qualified],
  );
  return r.rows.filter((x) => x.name !== tenantColumn).map((x) => ({ name: x.name, type: x.type }));
}

const LayoutSchema = z.object({
  columns: z.array(z.object({ name: z.string().min(1).max(63), type: z.string().min(1).max(200) })).max(1600),
});

/** The snapshot's columns (from its authenticated manifest), or `undefined` for a snapshot without a layout. */
function layoutColumns(layout: unknown, module: string): Column[] | undefined {
  if (layout === undefined) return undefined;
  const parsed = LayoutSchema.safeParse(layout);
  if (!parsed.success)
    throw new VaultError(
      'VAULT_SCHEMA_MISMATCH',
      `Module ${module}: the snapshot's column layout is not readable`,
      {
        details: { module },
      },
    );
  return parsed.data.columns;
}

/** Refuses a snapshot whose columns are missing from the table now, or changed type. */
function checkColumns(
  snapshot: readonly Column[],
  current: readonly Column[],
  module: string,
  table: string,
): void {
  const now = new Map(current.map((c) => [c.name, c.type]));
  for (const c of snapshot) {
    const type = now.get(c.name);
    if (type === undefined)
      throw new VaultError(
        'VAULT_SCHEMA_MISMATCH',
        `Module ${module}: column ${c.name} of the snapshot is missing from table ${table}`,
        { details: { module, table, column: c.name } },
      );
    if (type !== c.type)
      throw new VaultError(
        'VAULT_SCHEMA_MISMATCH',
        `Module ${module}: column ${c.name} of table ${table} changed type from ${c.type} to ${type}`,
        { details: { module, table, column: c.name, snapshotType: c.type, currentType: type } },
      );
  }
}

/**
 * A data module for one PostgreSQL table keyed by a tenant column. Export is
 * `COPY (SELECT cols FROM table WHERE tenant = '<tenant>') TO STDOUT` (pg-copy-streams), import is
 * `COPY table (tenant, cols) FROM STDIN` with the tenant column written by the vault (so a record can
 * only land in the tenant being restored: V1), clean is `DELETE FROM table WHERE tenant = $1`. All of
 * it runs inside `scope` transactions, with the tenant set for RLS; modules sharing one scope are
 * restored in one transaction. A record is one COPY text row (without the tenant column).
 * @throws ValidationError `VALIDATION_FAILED` on bad options
 * @example
 * const scope = createPostgresTransactionScope(pool);
 * registry.register(postgresTableModule(scope, { table: 'users' }), postgresTableModule(scope, { table: 'tasks', dependsOn: ['users'] }));
 */
export function postgresTableModule(
  scope: VaultTransactionScope,
  options: PostgresTableModuleOptions,
): VaultModule {
  if (typeof scope?.run !== 'function')
    throw new VaultError('VAULT_CONFIG_INVALID', 'postgresTableModule needs a transaction scope');
  const o = parseInput(PostgresTableModuleOptionsSchema, options, 'postgres table module options');
  const qualified = `${quoteIdent(o.schema)}.${quoteIdent(o.table)}`;
  const tenantCol = quoteIdent(o.tenantColumn);
  const moduleName = o.name ?? o.table.toLowerCase().replace(/[^a-z0-9._-]/g, '_');
  let lastColumns: readonly string[] | undefined = o.columns;
  /** The table's columns now (the configured ones, in their order, when `columns` is set). */
  const currentColumns = async (client: PgPoolClientLike): Promise<Column[]> => {
    const all = await stableColumns(client, qualified, o.tenantColumn);
    if (!o.columns) return all;
    const types = new Map(all.map((c) => [c.name, c.type]));
    // A configured column missing from the table keeps an unknown type; COPY reports it.
    return o.columns.map((name) => ({ name, type: types.get(name) ?? 'unknown' }));
  };
  const columnsOf = async (client: PgPoolClientLike): Promise<Column[]> => {
    const cols = await currentColumns(client);
    lastColumns = cols.map((c) => c.name);
    return cols;
  };
  /** Columns to import: the snapshot's own (by name, checked against the table), else the table's now. */
  const importColumns = async (client: PgPoolClientLike, context: VaultModuleContext): Promise<string[]> => {
    const current = await columnsOf(client);
    const snapshot = layoutColumns(context.layout, moduleName);
    if (!snapshot) return current.map((c) => c.name);
    checkColumns(snapshot, await stableColumns(client, qualified, o.tenantColumn), moduleName, o.table);
    return snapshot.map((c) => c.name);
  };
  /** Runs in the restore's transaction when there is one, else in a transaction of its own. */
  const within = <R>(
    context: VaultModuleContext,
    fn: (client: PgPoolClientLike) => Promise<R>,
    readOnly = false,
  ): Promise<R> =>
    context.transaction !== undefined
      ? fn(context.transaction as PgPoolClientLike)
      : scope.run(context.tenantId, (tx) => fn(tx as PgPoolClientLike), { readOnly });

  return Object.freeze({
    name: moduleName,
    schemaVersion: o.schemaVersion,
    dependsOn: o.dependsOn,
    transactions: scope,
    // What the coverage check (V5) counts as exported.
    covers: { postgres: [`${o.schema}.${o.table}`] },
    ...(o.upgrades
      ? { upgrades: Object.fromEntries(Object.entries(o.upgrades).map(([k, v]) => [Number(k), v])) }
      : {}),
    ...(o.encryptedFields ? { encryptedFields: o.encryptedFields } : {}),

    export(context: VaultModuleContext): AsyncIterable<Uint8Array[]> {
      return {
        [Symbol.asyncIterator]: () => exportRows(context)[Symbol.asyncIterator](),
      };
    },

    async import(context: VaultModuleContext, records: AsyncIterable<Uint8Array>): Promise<void> {
      await within(context, async (client) => {
        const cols = (await importColumns(client, context)).map(quoteIdent);
        const staged =
          o.importVia === 'staging' ||
          (o.importVia === 'auto' &&
            (
              await client.query<{ on: boolean }>('SELECT row_security_active($1::regclass) AS on', [
                qualified,
              ])
            ).rows[0]?.on === true);
        if (!staged) {
          // The tenant id is validated ([A-Za-z0-9._-]), so it needs no COPY escaping.
          await copyIn(
            client,
            `COPY ${qualified} (${[tenantCol, ...cols].join(', ')}) FROM STDIN`,
            records,
            Buffer.from(`${context.tenantId}\t`, 'utf8'),
          );
          return;
        }
        const stage = 'tenantry_vault_stage';
        await client.query(
          `DROP TABLE IF EXISTS pg_temp.${stage}; CREATE TEMP TABLE ${stage} ON COMMIT DROP AS SELECT ${cols.join(', ')} FROM ${qualified} WITH NO DATA`,
        );
        await copyIn(client, `COPY pg_temp.${stage} (${cols.join(', ')}) FROM STDIN`, records, undefined);
        await client.query(
          `INSERT INTO ${qualified} (${[tenantCol, ...cols].join(', ')}) OVERRIDING SYSTEM VALUE SELECT ${quoteLiteral(context.tenantId)}, ${cols.join(', ')} FROM pg_temp.${stage}`,
        );
        await client.query(`DROP TABLE pg_temp.${stage}`);
      });
    },

    async checkLayout(context: VaultModuleContext): Promise<void> {
      const snapshot = layoutColumns(context.layout, moduleName);
      if (!snapshot) return;
      await within(
        context,
        async (client) =>
          checkColumns(snapshot, await stableColumns(client, qualified, o.tenantColumn), moduleName, o.table),
        true,
      );
    },

    async clean(context: VaultModuleContext): Promise<void> {
      await within(context, async (client) => {
        await client.query(`DELETE FROM ${qualified} WHERE ${tenantCol} = $1`, [context.tenantId]);
      });
    },

    toJson(record: Uint8Array): Record<string, unknown> {
      const cols = lastColumns ?? [];
      return parseCopyTextRow(Buffer.from(record).toString('utf8'), cols);
    },
  } satisfies CoveringModule);

  async function* exportRows(context: VaultModuleContext): AsyncGenerator<Uint8Array[]> {
    // An async generator cannot yield from inside scope.run's callback, so without a transaction of
    // the snapshot the rows go through a small queue with backpressure.
    if (context.transaction !== undefined) {
      yield* copyOut(context.transaction as PgPoolClientLike, context);
      return;
    }
    yield* bridge((emit) =>
      scope.run(
        context.tenantId,
        async (tx) => {
          for await (const row of copyOut(tx as PgPoolClientLike, context)) await emit(row);
        },
        { readOnly: true },
      ),
    );
  }

  async function* copyOut(
    client: PgPoolClientLike,
    context: VaultModuleContext,
  ): AsyncGenerator<Uint8Array[]> {
    const { tenantId } = context;
    const columns = await columnsOf(client);
    // The column names and types go into the manifest (authenticated): a restore imports by name.
    context.setLayout?.({ columns });
    const cols = columns.map((c) => c.name);
    const sql = `COPY (SELECT ${cols.map(quoteIdent).join(', ')} FROM ${qualified} WHERE ${tenantCol} = ${quoteLiteral(tenantId)}) TO STDOUT`;
    const source = (client as unknown as CopyClient).query(copyStreams.to(sql));
    // Until the COPY has ended, the connection cannot take another statement: if the transaction
    // fails meanwhile (the consumer stopped, or was aborted), the scope destroys the connection.
    markConnectionUnusable(client);
    let carry: Buffer | undefined;
    try {
      for await (const chunk of source as AsyncIterable<Buffer>) {
        const buf = carry ? Buffer.concat([carry, chunk]) : chunk;
        carry = undefined;
        // One batch of rows per COPY chunk (pg-copy-streams hands over ~64 KiB at a time).
        const rows: Buffer[] = [];
        let start = 0;
        for (let nl = buf.indexOf(NEWLINE, start); nl !== -1; nl = buf.indexOf(NEWLINE, start)) {
          rows.push(buf.subarray(start, nl));
          start = nl + 1;
        }
        if (start < buf.byteLength) carry = Buffer.from(buf.subarray(start));
        if (rows.length > 0) yield rows;
      }
      markConnectionUsable(client);
    } finally {
      // Stopped early (error or consumer gone): the COPY may still run on the connection, which stays marked.
      if (!source.readableEnded && !source.destroyed) source.destroy();
    }
    if (carry && carry.byteLength > 0)
      throw new VaultError('VAULT_MODULE_FAILED', 'COPY output ended inside a row', {
        details: { table: o.table },
      });
  }
}

const NL = Buffer.from([NEWLINE]);

/** Streams records (one COPY text row each, `prefix` before each) into `COPY … FROM STDIN`, with backpressure. */
async function copyIn(
  client: PgPoolClientLike,
  sql: string,
  records: AsyncIterable<Uint8Array>,
  prefix: Buffer | undefined,
): Promise<void> {
  const sink: Writable = (client as unknown as CopyClient).query(copyStreams.from(sql));
  // Listen from the start: the server may refuse the COPY (or a row) before anything is written.
  const done = finished(sink);
  done.catch(() => undefined);
  let batch: Buffer[] = [];
  let batchBytes = 0;
  const flush = async (): Promise<void> => {
    if (batchBytes === 0) return;
    const ok = sink.write(Buffer.concat(batch, batchBytes));
    batch = [];
    batchBytes = 0;
    if (!ok) await Promise.race([once(sink, 'drain'), done]);
  };
  try {
    for await (const record of records) {
      if (sink.errored) break;
      if (prefix) batch.push(prefix);
      batch.push(Buffer.from(record.buffer, record.byteOffset, record.byteLength), NL);
      batchBytes += (prefix?.byteLength ?? 0) + record.byteLength + 1;
      if (batchBytes >= BATCH) await flush();
    }
    await flush();
    sink.end();
  } catch (error) {
    // pg-copy-streams answers destroy() with CopyFail: the server ends the COPY and the transaction fails.
    sink.destroy(error instanceof Error ? error : new Error('import failed'));
    await done.catch(() => undefined);
    throw error;
  }
  await done;
}

/**
 * Turns a callback that emits items (and may only run inside a transaction) into an async iterable,
 * one item in flight at a time (the producer waits until the consumer pulls: backpressure). A
 * consumer that stops early makes the producer's next `emit` reject, so its transaction rolls back.
 */
async function* bridge<T>(produce: (emit: (item: T) => Promise<void>) => Promise<void>): AsyncGenerator<T> {
  type Slot = { item: T; taken: () => void; abort: (e: Error) => void };
  let wake: (() => void) | undefined;
  let pending: Slot | undefined;
  let current: Slot | undefined;
  let done = false;
  let cancelled = false;
  let failure: { error: unknown } | undefined;
  const signal = (): void => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const running = produce(
    (item) =>
      new Promise<void>((taken, abort) => {
        if (cancelled) return abort(new Error('consumer stopped'));
        pending = { item, taken, abort };
        signal();
      }),
  ).then(
    () => {
      done = true;
      signal();
    },
    (error: unknown) => {
      failure = { error };
      done = true;
      signal();
    },
  );
  try {
    for (;;) {
      if (pending) {
        current = pending;
        pending = undefined;
        yield current.item;
        current.taken();
        current = undefined;
        continue;
      }
      if (done) break;
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
    if (failure) throw failure.error;
  } finally {
    if (!done) {
      cancelled = true;
      current?.abort(new Error('consumer stopped'));
      pending?.abort(new Error('consumer stopped'));
    }
    await running;
  }
}
