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

let tsxRegistered = false;

/**
 * Registers tsx's loaders once, when tsx is installed; `false` when it is not. Both of them: a `.ts`
 * file in a package without `"type": "module"` is CommonJS, which only tsx's CommonJS hook compiles.
 */
async function registerTsx(): Promise<boolean> {
  if (tsxRegistered) return true;
  const registerOf = async (specifier: string): Promise<(() => unknown) | undefined> => {
    try {
      const api = (await importModule(specifier)) as { register?: unknown };
      return typeof api.register === 'function' ? (api.register as () => unknown) : undefined;
    } catch {
      return undefined;
    }
  };
  const esm = await registerOf('tsx/esm/api');
  if (esm === undefined) return false;
  esm();
  (await registerOf('tsx/cjs/api'))?.();
  tsxRegistered = true;
  return true;
}

async function importFile(path: string): Promise<unknown> {
  const url = pathToFileURL(path).href;
  if (!TS_EXTENSIONS.has(extname(path))) return importModule(url);
  // A TypeScript config: tsx's loader goes in before the first import (Node caches a failed import
  // of a URL, so registering it afterwards and importing again would fail the same way). Without
  // tsx, Node's own type stripping (22.6+) may load it.
  await registerTsx();
  try {
    return await importModule(url);
  } catch (e) {
    const code = (e as { code?: unknown } | null)?.code;
    if (code !== 'ERR_UNKNOWN_FILE_EXTENSION') throw e;
    throw configError(
      'A TypeScript config file needs tsx (npm i -D tsx) or Node 22.6+; or write it as .mjs',
      { cause: e, details: { file: path } },
    );
  }
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
    // A CommonJS-compiled config (a .ts file outside an ES module package): `exports.default`.
    if (
      typeof loaded === 'object' &&
      loaded !== null &&
      (loaded as { __esModule?: unknown }).__esModule === true &&
      'default' in loaded
    )
      loaded = (loaded as { default: unknown }).default;
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
