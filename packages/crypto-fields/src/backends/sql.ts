import { CryptoFieldsError } from '../errors.js';

const IDENT = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** Quote a (optionally schema-qualified) SQL identifier after checking it is a plain name. */
export function quoteIdent(name: string): string {
  const parts = name.split('.');
  if (parts.length > 2 || !parts.every((p) => IDENT.test(p))) {
    throw new CryptoFieldsError('KEY_STORE_FAILED', `Not a plain SQL identifier: ${JSON.stringify(name)}`, {
      details: { name },
    });
  }
  return parts.map((p) => `"${p}"`).join('.');
}
