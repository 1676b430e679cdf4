import { z } from 'zod';

/** A JSON value (no `undefined`, functions, dates or non-finite numbers), as stored in JSON columns. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** Validates a {@link JsonValue}; rejects non-finite numbers and non-plain values. */
export const JsonValueSchema: z.ZodType<JsonValue> = z.lazy(() =>
  z.union([
    z.string(),
    z.number().refine(Number.isFinite, 'must be a finite number'),
    z.boolean(),
    z.null(),
    z.array(JsonValueSchema),
    z.record(z.string(), JsonValueSchema),
  ]),
);

/** Keys of settings, features and quotas: dotted lower-case names such as `exports.csv` or `emails.per-day`. */
export const ConfigKeySchema = z
  .string()
  .regex(/^[a-z][a-z0-9_-]*(\.[a-z0-9][a-z0-9_-]*)*$/, 'must be dotted lower-case, e.g. exports.csv')
  .max(128);

/** Largest serialised size of one config map (64 KiB): configuration, not a document store. */
export const MAX_CONFIG_MAP_BYTES = 65_536;

/** A JSON object keyed by {@link ConfigKeySchema}: settings values, plan features, tenant overrides (≤ 64 KiB). */
export const ConfigMapSchema = z
  .record(ConfigKeySchema, JsonValueSchema)
  .refine(
    (m) => Buffer.byteLength(JSON.stringify(m)) <= MAX_CONFIG_MAP_BYTES,
    'must serialise to at most 64 KiB',
  );
/** A JSON object keyed by config keys. */
export type ConfigMap = Record<string, JsonValue>;
