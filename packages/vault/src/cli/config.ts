import { existsSync } from 'node:fs';
import { extname, isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type Actor, ActorSchema, TenantryError, parseInput } from '@tenantry/core';
import { z } from 'zod';
import type { CoverageOptions } from '../coverage.js';
import { VaultError } from '../errors.js';
import type { VaultOptions } from '../vault.js';

/**
 * What a `tenantry-vault` config file default-exports (directly, or from a function, possibly
 * async): the host's vault options and, for `coverage`, the databases to inspect.
 * @example
 * // tenantry-vault.config.ts
 * import { defineVaultCliConfig } from '@tenantry/vault/cli';
 * export default defineVaultCliConfig(async () => ({ vault: { registry, storage, records, crypto }, close: () => pool.end() }));
 */
export interface VaultCliConfig {
  /** The options `createVault` gets: registry, storage, records store, crypto (keys), audit, maintenance. */
  vault: VaultOptions;
  /** The operator the CLI acts as, in an audited system scope. @default { id: 'tenantry-vault-cli', kind: 'service' } */
  actor?: z.input<typeof ActorSchema>;
  /** The databases `coverage` inspects (the registry comes from `vault.registry`). */
  coverage?: Omit<CoverageOptions, 'registry'>;
  /** Called once the command is done, success or not: close your pools here. */
  close?: () => unknown;
}

/** The shape of a {@link VaultCliConfig}, checked when the file is loaded (the vault options are checked by `createVault`). */
export const VaultCliConfigSchema = z.object({
  vault: z.record(z.string(), z.unknown()),
  actor: ActorSchema.optional(),
  coverage: z.record(z.string(), z.unknown()).optional(),
  close: z.custom<() => unknown>((v) => typeof v === 'function', 'must be a function').optional(),
});

/** Types a config file's default export (identity at run time). */
export function defineVaultCliConfig<
  C extends VaultCliConfig | (() => VaultCliConfig | Promise<VaultCliConfig>),
>(config: C): C {
  return config;
}

/** Config file names looked for in the working directory, in this order. */
export const DEFAULT_CONFIG_FILES = [
  'tenantry-vault.config.mjs',
  'tenantry-vault.config.js',
  'tenantry-vault.config.ts',
  'tenantry-vault.config.mts',
] as const;

const TS_EXTENSIONS = new Set(['.ts', '.mts', '.cts']);

// A real dynamic import in both builds: the CommonJS build would turn `import()` into `require()`,
// which cannot load an ES module config by file URL.
const importModule = new Function('specifier', 'return import(specifier)') as (
  specifier: string,
) => Promise<unknown>;

function configError(
  message: string,
  options: { cause?: unknown; details?: Record<string, unknown> } = {},
): VaultError {
  return new VaultError('VAULT_CONFIG_INVALID', message, options);
}

async function importFile(path: string): Promise<unknown> {
  const url = pathToFileURL(path).href;
  try {
    return await importModule(url);
  } catch (e) {
    const code = (e as { code?: unknown } | null)?.code;
    if (code !== 'ERR_UNKNOWN_FILE_EXTENSION' || !TS_EXTENSIONS.has(extname(path))) throw e;
  }
  // A TypeScript config on a Node without type stripping: load it through tsx when installed.
  let register: (() => unknown) | undefined;
  try {
    const tsx = (await importModule('tsx/esm/api')) as { register?: () => unknown };
    register = tsx.register;
  } catch {
    register = undefined;
  }
  if (typeof register !== 'function') {
    throw configError(
      'A TypeScript config file needs tsx (npm i -D tsx) or Node 22.6+; or write it as .mjs',
      {
        details: { file: path },
      },
    );
  }
  register();
  return importModule(url);
}

/**
 * Loads a config file (`path`, or the first of {@link DEFAULT_CONFIG_FILES} in `cwd`): imports it,
 * takes its default export, calls it when it is a function, and checks the shape.
 * @throws VaultError `VAULT_CONFIG_INVALID` (no file, it fails to load, or the shape is wrong; the cause kept)
 */
export async function loadVaultCliConfig(
  path: string | undefined,
  cwd: string,
): Promise<VaultCliConfig & { actor: Actor }> {
  parseInput(z.string().min(1).max(4096).optional(), path, 'config path');
  parseInput(z.string().min(1).max(4096), cwd, 'working directory');
  const file =
    path === undefined
      ? DEFAULT_CONFIG_FILES.map((f) => resolve(cwd, f)).find((f) => existsSync(f))
      : isAbsolute(path)
        ? path
        : resolve(cwd, path);
  if (file === undefined) {
    throw configError(`No config file: pass --config or create ${DEFAULT_CONFIG_FILES[0]}`);
  }
  if (!existsSync(file)) throw configError('The config file does not exist', { details: { file } });
  let loaded: unknown;
  try {
    const mod = (await importFile(file)) as { default?: unknown };
    loaded = mod.default;
    if (typeof loaded === 'function') loaded = await (loaded as () => unknown)();
  } catch (e) {
    if (e instanceof TenantryError && e.code === 'VAULT_CONFIG_INVALID') throw e;
    throw configError('The config file failed to load', { cause: e, details: { file } });
  }
  if (loaded === undefined) throw configError('The config file has no default export', { details: { file } });
  const parsed = (() => {
    try {
      return parseInput(VaultCliConfigSchema, loaded, 'tenantry-vault config');
    } catch (e) {
      throw configError('The config file does not export { vault, actor?, coverage?, close? }', {
        cause: e,
        details: { file, issues: (e as { details?: { issues?: unknown } }).details?.issues },
      });
    }
  })();
  return {
    ...(loaded as VaultCliConfig),
    actor: parsed.actor ?? ActorSchema.parse({ id: 'tenantry-vault-cli', kind: 'service' }),
  };
}
