import { type ArgumentMetadata, Injectable, type PipeTransform } from '@nestjs/common';
import sanitize from 'sanitize-html';
import { type SanitizeHtmlOptions, htmlFieldsOf } from './dto-fields.decorators.js';

const clean = (value: unknown, options: SanitizeHtmlOptions | undefined): unknown => {
  if (typeof value === 'string') return sanitize(value, options ?? {});
  if (Array.isArray(value)) return value.map((v) => (typeof v === 'string' ? sanitize(v, options ?? {}) : v));
  return value;
};

/**
 * Cleans the `@SanitizeHtml()` fields of a body whose DTO class marks them, with sanitize-html, before
 * validation pipes and the handler see them. Global under `TenancyModule` (Nest gives the pipe the
 * `@Body()` parameter's type from decorator metadata); use `new SanitizeHtmlPipe(Dto)` on a `@Body()`
 * to name the DTO explicitly. Bodies of other types pass unchanged, at the cost of one map lookup.
 */
export class SanitizeHtmlPipe implements PipeTransform {
  readonly #cache = new WeakMap<object, Map<string, SanitizeHtmlOptions | undefined>>();
  constructor(private readonly dto?: abstract new (...args: never[]) => unknown) {}

  transform(value: unknown, metadata: ArgumentMetadata): unknown {
    if (metadata.type !== 'body' || metadata.data !== undefined) return value;
    const type = this.dto ?? metadata.metatype;
    if (typeof type !== 'function' || typeof value !== 'object' || value === null || Array.isArray(value))
      return value;
    let fields = this.#cache.get(type);
    if (!fields) {
      fields = htmlFieldsOf(type);
      this.#cache.set(type, fields);
    }
    if (fields.size === 0) return value;
    const body = value as Record<string, unknown>;
    for (const [field, options] of fields) {
      if (Object.hasOwn(body, field)) body[field] = clean(body[field], options);
    }
    return body;
  }
}

Injectable()(SanitizeHtmlPipe);
