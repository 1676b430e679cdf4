import { parseArgs } from 'node:util';
import { isTenantryError, noopAuditPort, parseInput, runAsSystem } from '@tenantry/core';
import { z } from 'zod';
import { type CoverageOptions, type CoverageReport, checkCoverage } from '../coverage.js';
import { VaultError } from '../errors.js';
import { FileSystemSnapshotStorage } from '../storage/fs.js';
import { type Vault, createVault } from '../vault.js';
import { type VaultCliConfig, loadVaultCliConfig } from './config.js';
import { type CliStream, ProgressView, formatBytes, formatCount, formatSeconds } from './progress.js';

/** Where {@link runCli} reads and writes; the process's own by default. */
export interface CliIo {
  stdout: CliStream;
  stderr: CliStream;
  cwd: string;
}

/** Exit codes of `tenantry-vault`. */
export const CliExitCodes = {
  ok: 0,
  /** The command failed (the error line names the code), or `coverage` found gaps. */
  failed: 1,
  /** The command line was wrong (unknown command or option, a missing value). */
  usage: 2,
} as const;

const USAGE = `Usage: tenantry-vault <command> [options]

Commands:
  snapshot --tenant <id> [--module <name>]...        take a snapshot of one tenant
  list     --tenant <id> [--limit <n>]               list the tenant's snapshots, newest first
  verify   --tenant <id> --snapshot <id>             read and authenticate a whole snapshot
  restore  --tenant <id> (--snapshot <id> | --before <iso time>) --yes
                                                     restore the tenant (verified first, all-or-nothing)
  export   --tenant <id> [--out <dir>] [--no-decrypt] GDPR export (JSON lines per module + manifest)
  coverage [--tenant-column <name>] [--tenant-field <name>]
                                                     list tenant tables no module exports (exit 1 on gaps)
  prune    --tenant <id> [--keep-last <n>] [--newer-than <30d|12h|…>]
                                                     retention: delete older snapshots

Options:
  --config <file>   the config module (default: ./tenantry-vault.config.{mjs,js,ts,mts})
  --json            print the result as JSON on stdout
  --quiet           no progress display
  --help            this text
`;

const COMMANDS = ['snapshot', 'list', 'verify', 'restore', 'export', 'coverage', 'prune'] as const;
type Command = (typeof COMMANDS)[number];

const OPTIONS = {
  config: { type: 'string' },
  tenant: { type: 'string' },
  snapshot: { type: 'string' },
  before: { type: 'string' },
  module: { type: 'string', multiple: true },
  limit: { type: 'string' },
  out: { type: 'string' },
  'no-decrypt': { type: 'boolean' },
  'tenant-column': { type: 'string' },
  'tenant-field': { type: 'string' },
  'keep-last': { type: 'string' },
  'newer-than': { type: 'string' },
  yes: { type: 'boolean' },
  json: { type: 'boolean' },
  quiet: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

const ArgvSchema = z.array(z.string().max(10_000)).max(1000);
const writable = z.custom<CliStream>(
  (v) => typeof v === 'object' && v !== null && typeof (v as { write?: unknown }).write === 'function',
  'must have a write function',
);
const CliIoSchema = z.object({ stdout: writable, stderr: writable, cwd: z.string().min(1).max(4096) });

/** A command-line mistake: printed with the usage hint, exit code 2. */
class UsageError extends VaultError {
  constructor(message: string) {
    super('VAULT_CONFIG_INVALID', message, { details: { usage: true } });
  }
}

/** A destructive command run without `--yes`: exit code 2, nothing done. */
class ConfirmationError extends VaultError {
  constructor(message: string) {
    super('VAULT_CONFIRMATION_REQUIRED', message);
  }
}

const DURATION = /^(\d{1,9})(ms|s|m|h|d|w)$/;
const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/** `30d` → milliseconds; units ms, s, m, h, d, w. */
export function parseDuration(text: string): number {
  const m = typeof text === 'string' && text.length <= 20 ? DURATION.exec(text) : null;
  if (!m)
    throw new UsageError(
      `Not a duration: use e.g. 30d, 12h, 90m (got ${typeof text === 'string' ? JSON.stringify(text.slice(0, 20)) : typeof text})`,
    );
  return Number(m[1]) * (UNIT_MS[m[2] as string] as number);
}

function positiveInt(text: string | undefined, option: string): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d{1,9}$/.test(text)) throw new UsageError(`--${option} must be a whole number`);
  return Number(text);
}

function need(value: string | undefined, option: string, command: string): string {
  if (value === undefined || value === '') throw new UsageError(`${command} needs --${option}`);
  return value;
}

/**
 * Runs `tenantry-vault` with `argv` (the arguments after the program name) and resolves to the exit
 * code: 0 on success, 1 when the command failed (one line on stderr: `tenantry-vault: <CODE>: <message>`)
 * or `coverage` found gaps, 2 on a command-line mistake. Every tenant operation runs in an audited
 * system scope (core's `runAsSystem`, actor from the config) naming the tenant. Progress goes to
 * stderr (a bar on a terminal, plain lines otherwise), the result to stdout.
 * @example process.exitCode = await runCli(process.argv.slice(2));
 */
export async function runCli(argv: readonly string[], io: CliIo = defaultIo()): Promise<number> {
  parseInput(ArgvSchema, argv, 'tenantry-vault arguments');
  parseInput(CliIoSchema, io, 'tenantry-vault io');
  let values: Values;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: [...argv],
      options: OPTIONS,
      allowPositionals: true,
      strict: true,
    }));
  } catch (e) {
    io.stderr.write(`tenantry-vault: VALIDATION_FAILED: ${(e as Error).message}\n${USAGE}`);
    return CliExitCodes.usage;
  }
  if (values.help || positionals.length === 0) {
    (values.help ? io.stdout : io.stderr).write(USAGE);
    return values.help ? CliExitCodes.ok : CliExitCodes.usage;
  }
  const command = positionals[0] as Command;
  if (!COMMANDS.includes(command) || positionals.length > 1) {
    io.stderr.write(
      `tenantry-vault: VALIDATION_FAILED: unknown command ${JSON.stringify(positionals.join(' '))}\n${USAGE}`,
    );
    return CliExitCodes.usage;
  }
  let config: (VaultCliConfig & { actor: import('@tenantry/core').Actor }) | undefined;
  try {
    config = await loadVaultCliConfig(values.config, io.cwd);
    return await run(command, values, config, io);
  } catch (e) {
    const code = isTenantryError(e) ? e.code : 'UNEXPECTED';
    let message = e instanceof Error ? e.message : String(e);
    // A config that fails to load: say why (the cause's own message), still on one line.
    if (code === 'VAULT_CONFIG_INVALID' && e instanceof Error && e.cause instanceof Error && e.cause.message)
      message = `${message}: ${e.cause.message}`;
    io.stderr.write(`tenantry-vault: ${code}: ${oneLine(message)}\n`);
    if (e instanceof UsageError || e instanceof ConfirmationError) return CliExitCodes.usage;
    return CliExitCodes.failed;
  } finally {
    try {
      await config?.close?.();
    } catch {
      // Closing the host's pools is best effort; the command's own outcome is what counts.
    }
  }
}

const oneLine = (text: string): string => text.replace(/\s+/g, ' ').trim().slice(0, 500);

function defaultIo(): CliIo {
  return { stdout: process.stdout, stderr: process.stderr, cwd: process.cwd() };
}

async function run(
  command: Command,
  v: Values,
  config: VaultCliConfig & { actor: import('@tenantry/core').Actor },
  io: CliIo,
): Promise<number> {
  const out = (text: string): void => {
    io.stdout.write(`${text}\n`);
  };
  const json = (value: unknown): void => out(JSON.stringify(value, null, 2));
  const progress = (label: string, totalBytes?: number): ProgressView | undefined =>
    v.quiet
      ? undefined
      : new ProgressView(io.stderr, { label, ...(totalBytes !== undefined ? { totalBytes } : {}) });

  if (command === 'coverage') {
    if (!config.coverage)
      throw new VaultError(
        'VAULT_CONFIG_INVALID',
        'coverage needs a `coverage` section in the config (postgres and/or mongo)',
      );
    const options = { ...config.coverage, registry: config.vault.registry } as CoverageOptions;
    if (v['tenant-column'] && options.postgres)
      options.postgres = { ...options.postgres, tenantColumn: v['tenant-column'] };
    if (v['tenant-field'] && options.mongo)
      options.mongo = { ...options.mongo, tenantField: v['tenant-field'] };
    const report = await checkCoverage(options);
    if (v.json) json(report);
    else printCoverage(report, out);
    if (!report.ok) {
      io.stderr.write(
        `tenantry-vault: VAULT_COVERAGE_GAPS: ${report.gaps.length} tenant table(s) or collection(s) hold rows no module exports: ${report.gaps.map((g) => g.name).join(', ')}\n`,
      );
      return CliExitCodes.failed;
    }
    return CliExitCodes.ok;
  }

  const tenantId = need(v.tenant, 'tenant', command);
  const vault: Vault = createVault(config.vault);
  const asOperator = <R>(fn: () => Promise<R>): Promise<R> =>
    runAsSystem(
      { actor: config.actor, reason: `tenantry-vault ${command} (tenant ${tenantId})` },
      config.vault.audit ?? noopAuditPort,
      fn,
    );

  switch (command) {
    case 'snapshot': {
      const view = progress(`snapshot ${tenantId}`);
      const summary = await asOperator(() =>
        vault.snapshot({
          tenantId,
          ...(v.module ? { modules: v.module } : {}),
          ...(view ? { onProgress: view.update } : {}),
        }),
      ).then(
        (done) => {
          view?.finish(true);
          return done;
        },
        (error: unknown) => {
          view?.finish();
          throw error;
        },
      );
      const records = summary.modules.reduce((n, m) => n + m.records, 0);
      if (v.json) {
        json(summary);
        return CliExitCodes.ok;
      }
      const ms = view?.elapsed();
      out(
        `snapshot ${summary.snapshotId} of tenant ${tenantId}: ${summary.modules.length} module(s), ${formatCount(records)} records, ${formatBytes(summary.size)}${ms !== undefined ? ` in ${formatSeconds(ms)}${rate(records, summary.size, ms)}` : ''}`,
      );
      for (const m of summary.modules)
        out(`  ${m.name.padEnd(24)} v${m.schemaVersion}  ${formatCount(m.records)} records`);
      return CliExitCodes.ok;
    }
    case 'list': {
      const limit = positiveInt(v.limit, 'limit');
      const records = await asOperator(() => vault.list({ tenantId, ...(limit ? { limit } : {}) }));
      if (v.json) {
        json(records);
        return CliExitCodes.ok;
      }
      if (records.length === 0) {
        out(`no snapshots for tenant ${tenantId}`);
        return CliExitCodes.ok;
      }
      out(`${'id'.padEnd(38)}${'kind'.padEnd(10)}${'status'.padEnd(10)}${'size'.padStart(10)}  created`);
      for (const r of records) {
        out(
          `${r.id.padEnd(38)}${r.kind.padEnd(10)}${r.status.padEnd(10)}${formatBytes(r.size).padStart(10)}  ${r.createdAt.toISOString()} by ${r.createdBy}`,
        );
      }
      return CliExitCodes.ok;
    }
    case 'verify': {
      const snapshotId = need(v.snapshot, 'snapshot', command);
      const view = progress(`verify ${snapshotId}`);
      const summary = await asOperator(() =>
        vault.verify({ tenantId, snapshotId, ...(view ? { onProgress: view.update } : {}) }),
      ).finally(() => view?.finish());
      if (v.json) {
        json(summary);
        return CliExitCodes.ok;
      }
      const records = summary.modules.reduce((n, m) => n + m.records, 0);
      out(
        `snapshot ${summary.snapshotId} of tenant ${summary.tenantId} verified: ${summary.modules.length} module(s), ${formatCount(records)} records, ${formatBytes(summary.size)}, sha256 ${summary.checksum}`,
      );
      return CliExitCodes.ok;
    }
    case 'restore': {
      if ((v.snapshot === undefined) === (v.before === undefined))
        throw new UsageError('restore needs exactly one of --snapshot and --before');
      if (!v.yes)
        throw new ConfirmationError(`restore replaces tenant ${tenantId}'s data: add --yes to confirm`);
      const view = progress(`restore ${tenantId}`);
      const report = await asOperator(() =>
        vault.restore({
          tenantId,
          ...(v.snapshot !== undefined ? { snapshotId: v.snapshot } : { before: v.before as string }),
          ...(view ? { onProgress: view.update } : {}),
        }),
      ).finally(() => view?.finish());
      if (v.json) {
        json(report);
        return CliExitCodes.ok;
      }
      const records = report.modules.reduce((n, m) => n + m.records, 0);
      const ms = view?.elapsed();
      out(
        `restored tenant ${tenantId} from snapshot ${report.snapshotId} (${report.mode}${report.safetySnapshotId ? `, safety snapshot ${report.safetySnapshotId}` : ''}): ${formatCount(records)} records${ms !== undefined ? ` in ${formatSeconds(ms)}` : ''}`,
      );
      for (const m of report.modules) {
        out(
          `  ${m.name.padEnd(24)} ${formatCount(m.records)} records${m.upgradedFrom !== undefined ? ` (upgraded from v${m.upgradedFrom})` : ''}`,
        );
      }
      return CliExitCodes.ok;
    }
    case 'export': {
      const target = v.out !== undefined ? new FileSystemSnapshotStorage({ root: v.out }) : undefined;
      const view = progress(`export ${tenantId}`);
      const report = await asOperator(() =>
        vault.exportData({
          tenantId,
          ...(target ? { target } : {}),
          ...(v['no-decrypt'] ? { decrypt: false as const } : {}),
          ...(view ? { onProgress: view.update } : {}),
        }),
      ).finally(() => view?.finish());
      if (v.json) {
        json(report);
        return CliExitCodes.ok;
      }
      const where = target ? `${target.root}/${report.prefix}` : report.prefix;
      out(`GDPR export ${report.exportId} of tenant ${tenantId} written to ${where}`);
      for (const m of report.modules) {
        out(
          `  ${m.file.padEnd(28)} ${formatCount(m.records)} records${m.withheld > 0 ? `, ${formatCount(m.withheld)} value(s) withheld` : ''}`,
        );
      }
      return CliExitCodes.ok;
    }
    case 'prune': {
      const keepLast = positiveInt(v['keep-last'], 'keep-last');
      const newerThanMs = v['newer-than'] !== undefined ? parseDuration(v['newer-than']) : undefined;
      if (keepLast === undefined && newerThanMs === undefined)
        throw new UsageError('prune needs --keep-last and/or --newer-than');
      const report = await asOperator(() =>
        vault.prune({
          tenantId,
          ...(keepLast !== undefined ? { keepLast } : {}),
          ...(newerThanMs !== undefined ? { newerThanMs } : {}),
        }),
      );
      if (v.json) {
        json(report);
        return CliExitCodes.ok;
      }
      out(
        `pruned tenant ${tenantId}: ${report.deleted.length} snapshot(s) deleted, ${report.kept.length} kept`,
      );
      for (const id of report.deleted) out(`  deleted ${id}`);
      return CliExitCodes.ok;
    }
  }
  return CliExitCodes.usage;
}

function rate(records: number, bytes: number, ms: number): string {
  const s = Math.max(ms, 1) / 1000;
  return ` (${formatCount(records / s)} records/s, ${formatBytes(bytes / s)}/s)`;
}

function printCoverage(report: CoverageReport, out: (text: string) => void): void {
  if (report.entries.length === 0) {
    out('no tenant-scoped tables or collections found');
    return;
  }
  for (const e of report.entries) {
    const status = e.coveredBy.length > 0 ? 'covered' : e.ignored ? 'ignored' : e.hasRows ? 'GAP' : 'empty';
    const by = e.coveredBy.length > 0 ? ` by ${e.coveredBy.join(', ')}` : '';
    out(`${status.padEnd(8)} ${e.store.padEnd(9)} ${e.name}${by}`);
  }
  out(
    report.ok
      ? 'coverage ok: every tenant table with rows is exported by a module'
      : `${report.gaps.length} gap(s)`,
  );
}
