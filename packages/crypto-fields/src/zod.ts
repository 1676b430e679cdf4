/**
 * Zod integration: mark the secret fields of a schema once, and derive the field paths that
 * `sealObject`/`openObject`, the Mongo codec and the pg row codec take.
 */
import { ValidationError } from '@tenantry/core';
import { z } from 'zod';

/** Registry of schemas marked secret by {@link secret}. */
export const secretRegistry: z.core.$ZodRegistry<{ secret: true }> = z.registry<{ secret: true }>();

/**
 * Mark a schema as secret: its values are encrypted at rest. Wrap the inner schema; `.optional()`,
 * `.nullable()` and `.default()` may go outside.
 * @example
 * const Settings = z.object({ smtp: z.object({ host: z.string(), password: secret(z.string()) }),
 *   webhooks: z.array(z.object({ url: z.string(), secret: secret(z.string()) })) });
 * secretPaths(Settings) // ['smtp.password', 'webhooks[].secret']
 */
export function secret<S extends z.ZodType>(schema: S): S {
  requireSchema(schema);
  secretRegistry.add(schema, { secret: true });
  return schema;
}

/** Whether a schema (or what it wraps) was marked with {@link secret}. */
export function isSecret(schema: z.ZodType): boolean {
  requireSchema(schema);
  return walkWrappers(schema).some((s) => secretRegistry.has(s));
}

/** A zod (v4) schema, or `VALIDATION_FAILED`. */
function requireSchema(schema: unknown): void {
  const def = (schema as { _zod?: { def?: { type?: unknown } } } | null)?._zod?.def;
  if (typeof def?.type !== 'string') {
    throw new ValidationError('schema', [{ path: [], message: 'must be a zod schema' }]);
  }
}

type Def = {
  type: string;
  innerType?: z.ZodType;
  shape?: Record<string, z.ZodType>;
  element?: z.ZodType;
  in?: z.ZodType;
};
const defOf = (s: z.ZodType): Def => (s as unknown as { _zod: { def: Def } })._zod.def;

const WRAPPERS = new Set(['optional', 'nullable', 'default', 'prefault', 'readonly', 'catch', 'nonoptional']);

/** The schema and every wrapper-inner schema below it (optional → nullable → …). */
function walkWrappers(schema: z.ZodType): z.ZodType[] {
  const out: z.ZodType[] = [schema];
  let s = schema;
  for (let d = defOf(s); ; d = defOf(s)) {
    if (WRAPPERS.has(d.type) && d.innerType) s = d.innerType;
    else if (d.type === 'pipe' && d.in) s = d.in;
    else break;
    out.push(s);
  }
  return out;
}

/**
 * The declared field paths of every secret in an object schema, through nested objects and arrays
 * (`items[].secret`; an array of secret strings is `tags[]`).
 * @example await fields.sealObject(doc, secretPaths(Settings), { collection: 'settings' });
 */
export function secretPaths(schema: z.ZodType): string[] {
  requireSchema(schema);
  const out: string[] = [];
  const visit = (s: z.ZodType, path: string) => {
    const chain = walkWrappers(s);
    if (path !== '' && chain.some((x) => secretRegistry.has(x))) {
      out.push(path);
      return;
    }
    const inner = chain[chain.length - 1]!;
    const d = defOf(inner);
    if (d.type === 'object' && d.shape) {
      for (const [k, v] of Object.entries(d.shape)) visit(v, path === '' ? k : `${path}.${k}`);
    } else if (d.type === 'array' && d.element && path !== '') {
      visit(d.element, `${path}[]`);
    }
  };
  visit(schema, '');
  return out;
}
