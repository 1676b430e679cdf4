import { type ArgumentMetadata, Injectable, type PipeTransform } from '@nestjs/common';
import sanitize from 'sanitize-html';
import { type SanitizeHtmlOptions, htmlFieldsOf } from './dto-fields.decorators.js';

// Deeper bodies are cut here: no JSON body a DTO describes nests this far, and a walk must end.
const MAX_DEPTH = 32;

// Every string in a marked field is cleaned, at any depth: a client may send an array of arrays or an
// object where the DTO says string, and such a value, turned into a string later (`String(['<img …>'])`),
// would give back the raw HTML.
const clean = (value: unknown, options: SanitizeHtmlOptions, depth = 0): unknown => {
  if (typeof value === 'string') return sanitize(value, options);
  if (typeof value !== 'object' || value === null) return value;
  if (depth >= MAX_DEPTH) return Array.isArray(value) ? [] : {};
  if (Array.isArray(value)) return value.map((v) => clean(v, options, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    Object.defineProperty(out, k, {
      value: clean(v, options, depth + 1),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
};

type Ctor = abstract new (...args: never[]) => unknown;
const designTypeOf = (type: Ctor, key: string): unknown =>
  (Reflect as { getMetadata?: (k: string, t: object, p: string) => unknown }).getMetadata?.(
    'design:type',
    type.prototype as object,
    key,
  );

/**
 * Cleans the `@SanitizeHtml()` fields of a body whose DTO class marks them, with sanitize-html, before
 * validation pipes and the handler see them: every string in a marked field, at any depth, and the
 * marked fields of nested DTOs (a property whose declared type is a DTO class, as decorator metadata
 * names it). Global under `TenancyModule` (Nest gives the pipe the `@Body()` parameter's type from
 * decorator metadata); use `new SanitizeHtmlPipe(Dto)` on a `@Body()` to name the DTO explicitly. Other
 * bodies pass unchanged, at the cost of one map lookup and a look at each top-level value's type (a
 * metadata lookup for object values).
 */
export class SanitizeHtmlPipe implements PipeTransform {
  // Per DTO class: its marked fields.
  readonly #cache = new WeakMap<object, Map<string, SanitizeHtmlOptions | undefined>>();
  constructor(private readonly dto?: Ctor) {}

  transform(value: unknown, metadata: ArgumentMetadata): unknown {
    if (metadata.type !== 'body' || metadata.data !== undefined) return value;
    const type = this.dto ?? metadata.metatype;
    if (typeof type !== 'function' || typeof value !== 'object' || value === null || Array.isArray(value))
      return value;
    return this.#cleanDto(type as Ctor, value as Record<string, unknown>, 0);
  }

  #fieldsOf(type: Ctor): Map<string, SanitizeHtmlOptions | undefined> {
    let fields = this.#cache.get(type);
    if (!fields) {
      fields = htmlFieldsOf(type);
      this.#cache.set(type, fields);
    }
    return fields;
  }

  #cleanDto(type: Ctor, body: Record<string, unknown>, depth: number): Record<string, unknown> {
    const fields = this.#fieldsOf(type);
    for (const [field, options] of fields) {
      if (Object.hasOwn(body, field)) body[field] = clean(body[field], options ?? {});
    }
    if (depth >= MAX_DEPTH) return body;
    // Nested DTOs: an object-valued property whose declared type is a class with marked fields.
    for (const key of Object.keys(body)) {
      const v = body[key];
      if (fields.has(key) || typeof v !== 'object' || v === null || Array.isArray(v)) continue;
      const nested = designTypeOf(type, key);
      if (typeof nested !== 'function' || nested === Object) continue;
      body[key] = this.#cleanDto(nested as Ctor, v as Record<string, unknown>, depth + 1);
    }
    return body;
  }
}

Injectable()(SanitizeHtmlPipe);
