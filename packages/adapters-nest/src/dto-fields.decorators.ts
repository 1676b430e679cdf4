import { ValidationError } from '@tenantry/core';

/**
 * Fields of DTO classes marked by `@Pii()` and `@SanitizeHtml()`, per class (inherited marks included).
 * @internal
 */

const pii = new WeakMap<object, Set<string>>();
const html = new WeakMap<object, Map<string, SanitizeHtmlOptions | undefined>>();

/**
 * What `@SanitizeHtml()` keeps (sanitize-html's allow-lists). Omitted fields keep sanitize-html's
 * defaults. URL schemes are sanitize-html's defaults (`http`, `https`, `ftp`, `mailto`, `tel`), never
 * `javascript:`.
 */
export interface SanitizeHtmlOptions {
  /**
   * Tags kept; all others are removed (their text kept, except `script`/`style`, dropped whole).
   * Tags that run or embed code (`script`, `style`, `iframe`, `object`, `svg`, `form` …) are refused
   * (`VALIDATION_FAILED`).
   */
  allowedTags?: string[];
  /**
   * Attributes kept per tag (`{ a: ['href'] }`). Event handlers (`on*`), wildcards other than
   * `data-*`/`aria-*`, `style`, `srcdoc` and `formaction` are refused (`VALIDATION_FAILED`).
   */
  allowedAttributes?: Record<string, string[]>;
}

function fieldName(what: string, key: string | symbol): string {
  if (typeof key !== 'string') {
    throw new ValidationError(what, [{ path: [], message: 'must decorate a string-named property' }]);
  }
  return key;
}

/**
 * Marks a DTO property as personal data: when a handler's body is that DTO, the request's audit event
 * masks the field (`[masked]`). The DTO is the handler's `@Body()` parameter type (decorator metadata,
 * as `nest build` emits) or `@Audited({ body: Dto })`.
 * @example
 * class CreateCustomerDto { name!: string; @Pii() email!: string; @Pii() iban!: string }
 */
export function Pii(): PropertyDecorator {
  return (target, key) => {
    const name = fieldName('@Pii()', key);
    const ctor = (target as { constructor: object }).constructor;
    let set = pii.get(ctor);
    if (!set) {
      set = new Set();
      pii.set(ctor, set);
    }
    set.add(name);
  };
}

/**
 * Marks a DTO string property (or array of strings) as accepting HTML: the body is cleaned with
 * sanitize-html (allow-list based; scripts, event handlers and `javascript:` URLs removed) before the
 * handler or a validation pipe sees it: every string in the field at any depth, whatever the client
 * sent, and the marked fields of nested DTOs (properties typed with a DTO class). Done by
 * `SanitizeHtmlPipe`, global under `TenancyModule`. An array of nested DTOs is declared `Array` in
 * decorator metadata: mark the array property itself to clean every string in it.
 * @throws ValidationError `VALIDATION_FAILED` for options that would let a script or handler through
 * @example
 * class NoteDto { @SanitizeHtml() body!: string; @SanitizeHtml({ allowedTags: ['b', 'i'] }) title!: string }
 */
export function SanitizeHtml(options?: SanitizeHtmlOptions): PropertyDecorator {
  if (options !== undefined) checkSanitizeOptions(options);
  return (target, key) => {
    const name = fieldName('@SanitizeHtml()', key);
    const ctor = (target as { constructor: object }).constructor;
    let map = html.get(ctor);
    if (!map) {
      map = new Map();
      html.set(ctor, map);
    }
    map.set(name, options);
  };
}

function checkSanitizeOptions(options: unknown): void {
  const fail = (path: PropertyKey[], message: string): never => {
    throw new ValidationError('@SanitizeHtml() options', [{ path, message }]);
  };
  if (typeof options !== 'object' || options === null || Array.isArray(options))
    fail([], 'must be an object');
  const o = options as Record<string, unknown>;
  if (
    o.allowedTags !== undefined &&
    (!Array.isArray(o.allowedTags) || !o.allowedTags.every((t) => typeof t === 'string'))
  ) {
    fail(['allowedTags'], 'must be an array of tag names');
  }
  // What the decorator promises never passes: scripts (and the other tags that run or embed code),
  // event handlers, and attribute wildcards that could match one (`o*`); `data-*` and `aria-*` are fine.
  for (const tag of (o.allowedTags as string[] | undefined) ?? []) {
    if (UNSAFE_TAGS.has(tag.toLowerCase())) fail(['allowedTags'], `may not allow <${tag}>`);
  }
  const attrs = o.allowedAttributes;
  if (attrs !== undefined) {
    if (typeof attrs !== 'object' || attrs === null || Array.isArray(attrs))
      fail(['allowedAttributes'], 'must be an object');
    for (const [tag, list] of Object.entries(attrs as object)) {
      if (!Array.isArray(list) || !list.every((a) => typeof a === 'string'))
        fail(['allowedAttributes', tag], 'must be an array of attribute names');
      if (UNSAFE_TAGS.has(tag.toLowerCase())) fail(['allowedAttributes', tag], `may not allow <${tag}>`);
      for (const a of list as string[]) {
        const name = a.toLowerCase();
        if (name.startsWith('on') || (name.includes('*') && !/^(data|aria)-[a-z0-9-]*\*$/.test(name))) {
          fail(['allowedAttributes', tag], `may not allow ${a}: event handlers never pass`);
        }
        if (name === 'style' || name === 'srcdoc' || name === 'formaction') {
          fail(['allowedAttributes', tag], `may not allow ${a}`);
        }
      }
    }
  }
}

const UNSAFE_TAGS: ReadonlySet<string> = new Set([
  'script',
  'style',
  'iframe',
  'frame',
  'frameset',
  'object',
  'embed',
  'applet',
  'base',
  'meta',
  'link',
  'form',
  'svg',
  'math',
  'template',
  'noscript',
]);

function chain(ctor: unknown): object[] {
  const out: object[] = [];
  let c: unknown = ctor;
  while (typeof c === 'function' && c !== Function.prototype) {
    out.push(c);
    c = Object.getPrototypeOf(c);
  }
  return out;
}

/** @internal The `@Pii()` fields of a DTO class, inherited ones included. */
export function piiFieldsOf(dto: unknown): string[] {
  const out = new Set<string>();
  for (const c of chain(dto)) for (const k of pii.get(c) ?? []) out.add(k);
  return [...out];
}

/** @internal The `@SanitizeHtml()` fields of a DTO class, inherited ones included (the subclass's options win). */
export function htmlFieldsOf(dto: unknown): Map<string, SanitizeHtmlOptions | undefined> {
  const out = new Map<string, SanitizeHtmlOptions | undefined>();
  for (const c of chain(dto).reverse()) for (const [k, v] of html.get(c) ?? []) out.set(k, v);
  return out;
}
