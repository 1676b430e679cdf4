import type { z } from 'zod';
import type { TenantConfig } from './config-cache.js';
import { TenancyModelError } from './model/errors.js';
import { ConfigKeySchema, type ConfigMap, type JsonValue } from './model/json.js';
import { resolveTenantId } from '../kernel/tenant-resolution.js';
import { ValidationError } from '../kernel/validation.js';
import type { SettingsValidator } from './tenant-directory.js';

/** One setting: its zod schema (the type), its default and a description. */
export interface SettingDefinition<S extends z.ZodType = z.ZodType> {
  schema: S;
  /** The value when no layer sets one. Must satisfy `schema`. */
  default: z.output<S>;
  description?: string;
}

/** A map of setting key → definition. Keys are dotted lower-case, e.g. `exports.csv`. */
export type SettingDefinitions = Record<string, SettingDefinition>;

/** The typed values of a definitions map. */
export type SettingValues<D extends SettingDefinitions> = { [K in keyof D]: z.output<D[K]['schema']> };

/** Keys of boolean settings (feature flags). */
export type FlagKey<D extends SettingDefinitions> = {
  [K in keyof D]: z.output<D[K]['schema']> extends boolean ? K : never;
}[keyof D] &
  string;

/** Where a resolved value came from. */
export type SettingSource = 'default' | 'global' | 'plan' | 'tenant';

/** The layers of settings resolution, lowest first. */
export interface SettingLayers {
  /** Platform settings values. */
  global?: ConfigMap;
  /** The tenant's plan features. */
  plan?: ConfigMap;
  /** The tenant's own overrides. */
  tenant?: ConfigMap;
}

/** Settings resolved for one tenant, with typed access. */
export interface ResolvedSettings<D extends SettingDefinitions> {
  /** The value of `key`. */
  get<K extends keyof D & string>(key: K): SettingValues<D>[K];
  /** Whether a boolean setting (feature flag) is on. */
  isEnabled(key: FlagKey<D>): boolean;
  /** Which layer supplied `key`. */
  source(key: keyof D & string): SettingSource;
  /** Every value. */
  toObject(): SettingValues<D>;
  /**
   * Stored values that no longer match their definition (e.g. after a definition changed); they were
   * skipped and the next lower layer used. Keys and layers only, never values.
   */
  readonly problems: ReadonlyArray<{ key: string; layer: Exclude<SettingSource, 'default'> }>;
}

/** A compiled set of setting definitions. */
export interface SettingsRegistry<D extends SettingDefinitions> extends SettingsValidator {
  readonly definitions: Readonly<D>;
  /** Resolve global → plan → tenant (later layers win); invalid stored values fall back (see `problems`). */
  resolve(layers: SettingLayers): ResolvedSettings<D>;
  /**
   * Check a layer before writing it: every defined key must satisfy its schema (`SETTING_INVALID`);
   * unknown keys are refused in the `global` and `tenant` layers (`SETTING_UNKNOWN`) and allowed in
   * `plan` (plans carry features that are not settings).
   * @throws TenancyModelError `SETTING_INVALID`, `SETTING_UNKNOWN`
   */
  validateLayer(values: ConfigMap, layer: 'global' | 'plan' | 'tenant'): void;
}

const LAYERS = ['global', 'plan', 'tenant'] as const;

/**
 * Define typed settings and feature flags, resolved global → plan features → tenant overrides.
 * @throws ValidationError `VALIDATION_FAILED` for a malformed key or a default that fails its schema
 * @example
 * const settings = defineSettings({
 *   'exports.csv': { schema: z.boolean(), default: false },
 *   'invoice.prefix': { schema: z.string().max(8), default: 'INV' },
 * });
 * const resolved = settings.resolve({ global: platform.values, plan: plan.features, tenant: tenant.settings });
 * resolved.isEnabled('exports.csv'); resolved.get('invoice.prefix'); // typed string
 */
export function defineSettings<D extends SettingDefinitions>(definitions: D): SettingsRegistry<D> {
  if (definitions === null || typeof definitions !== 'object' || Array.isArray(definitions)) {
    throw new ValidationError('setting definitions', [
      { path: [], message: 'must be an object of definitions' },
    ]);
  }
  for (const [key, def] of Object.entries(definitions)) {
    if (typeof (def as SettingDefinition | undefined)?.schema?.safeParse !== 'function') {
      throw new ValidationError('setting definitions', [
        { path: [key], message: 'must be { schema, default } with a zod schema' },
      ]);
    }
    if (!ConfigKeySchema.safeParse(key).success) {
      throw new TenancyModelError(
        'SETTING_INVALID',
        `Setting key ${JSON.stringify(key)} is not dotted lower-case`,
        {
          details: { key },
        },
      );
    }
    if (!def.schema.safeParse(def.default).success) {
      throw new TenancyModelError('SETTING_INVALID', `The default of ${key} does not satisfy its schema`, {
        details: { key },
      });
    }
  }
  const defs = Object.freeze({ ...definitions });

  return Object.freeze({
    definitions: defs,
    validateLayer(values: ConfigMap, layer: 'global' | 'plan' | 'tenant'): void {
      for (const [key, value] of Object.entries(values)) {
        const def = defs[key];
        if (!def) {
          if (layer === 'plan') continue;
          throw new TenancyModelError('SETTING_UNKNOWN', `No setting named ${key}`, {
            details: { key, layer },
          });
        }
        const r = def.schema.safeParse(value);
        if (!r.success) {
          throw new TenancyModelError(
            'SETTING_INVALID',
            `Invalid value for setting ${key} in the ${layer} layer`,
            {
              details: {
                key,
                layer,
                issues: r.error.issues.map((i) => ({ path: i.path.map(String), message: i.message })),
              },
            },
          );
        }
      }
    },
    resolve(layers: SettingLayers): ResolvedSettings<D> {
      const values: Record<string, unknown> = {};
      const sources: Record<string, SettingSource> = {};
      const problems: Array<{ key: string; layer: Exclude<SettingSource, 'default'> }> = [];
      for (const [key, def] of Object.entries(defs)) {
        values[key] = def.default;
        sources[key] = 'default';
        for (const layer of LAYERS) {
          const map = layers[layer];
          if (!map || !Object.hasOwn(map, key)) continue;
          const r = def.schema.safeParse(map[key] as JsonValue);
          if (r.success) {
            values[key] = r.data;
            sources[key] = layer;
          } else problems.push({ key, layer });
        }
      }
      const typed = Object.freeze(values) as SettingValues<D>;
      const known = (key: string): void => {
        if (!Object.hasOwn(defs, key))
          throw new TenancyModelError('SETTING_UNKNOWN', `No setting named ${key}`, { details: { key } });
      };
      return Object.freeze({
        get<K extends keyof D & string>(key: K): SettingValues<D>[K] {
          known(key);
          return typed[key];
        },
        isEnabled(key: FlagKey<D>): boolean {
          known(key);
          return typed[key] === true;
        },
        source(key: keyof D & string): SettingSource {
          known(key);
          return sources[key]!;
        },
        toObject: () => typed,
        problems: Object.freeze(problems),
      });
    },
  });
}

/**
 * Resolve a tenant's settings from its configuration (platform values → plan features → overrides).
 * The configuration's tenant is checked with `resolveTenantId` (T1): inside `runAsTenant(A)` only A's,
 * outside any context none, inside `runAsSystem` any.
 * @throws TenantryError `TENANT_CONTEXT_MISSING`, `TENANT_CONTEXT_CONFLICT`
 * @example
 * const config = await cache.get(); // inside runAsTenant
 * if (config) resolveTenantSettings(settings, config).isEnabled('exports.csv');
 */
export function resolveTenantSettings<D extends SettingDefinitions>(
  registry: SettingsRegistry<D>,
  config: Pick<TenantConfig, 'tenant' | 'plan' | 'platform'>,
): ResolvedSettings<D> {
  const isObject = (v: unknown): v is object => typeof v === 'object' && v !== null;
  if (
    typeof (registry as { resolve?: unknown } | null | undefined)?.resolve !== 'function' ||
    !isObject(config) ||
    !isObject(config.tenant) ||
    !isObject(config.platform)
  ) {
    throw new ValidationError('tenant settings arguments', [
      { path: [], message: 'expected a settings registry and a tenant config { tenant, plan, platform }' },
    ]);
  }
  resolveTenantId(config.tenant.id, 'tenant settings');
  return registry.resolve({
    global: config.platform.values,
    ...(config.plan ? { plan: config.plan.features } : {}),
    tenant: config.tenant.settings,
  });
}
