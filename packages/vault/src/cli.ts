// @tenantry/vault/cli: the `tenantry-vault` command line, callable from code (re-exports only).
export { runCli, type CliIo, CliExitCodes, parseDuration } from './cli/main.js';
export {
  type VaultCliConfig,
  VaultCliConfigSchema,
  defineVaultCliConfig,
  loadVaultCliConfig,
  DEFAULT_CONFIG_FILES,
} from './cli/config.js';
export { type CliStream, ProgressView, type ProgressViewOptions } from './cli/progress.js';
