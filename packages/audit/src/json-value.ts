import { AuditError } from './errors.js';

/** A JSON value that round-trips exactly through PostgreSQL `text`/`jsonb`, MongoDB and JSON lines. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

// Characters no store keeps exactly: NUL (PostgreSQL rejects it) and lone UTF-16 surrogates.
// biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is exactly what must be rejected
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Throw `AUDIT_VALUE_UNSUPPORTED` if `s` holds a character that some store would alter or reject. */
export function assertStorableString(s: string, path: string): string {
  if (UNSTORABLE.test(s)) {
    throw new AuditError(
      'AUDIT_VALUE_UNSUPPORTED',
      `Audit value at ${path} holds a NUL character or a lone surrogate, which stores cannot keep exactly`,
      { details: { path } },
    );
  }
  return s;
}
