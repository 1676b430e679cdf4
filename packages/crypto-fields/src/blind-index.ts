import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { ValidationError, parseInput } from '@tenantry/core';
import { z } from 'zod';

/** Built-in normalisations applied before hashing (after Unicode NFC, which always applies). */
export const NormalizeSchema = z.enum(['none', 'trim', 'trim-lowercase', 'digits']);
/** A built-in normalisation name or your own function. */
export type Normalize = z.infer<typeof NormalizeSchema> | ((value: string) => string);

/** Options of a blind index. */
export const BlindIndexOptionsSchema = z.object({
  /** How to normalise the value first, so equal-meaning inputs index alike. @default 'trim-lowercase' */
  normalize: z
    .union([NormalizeSchema, z.custom<(value: string) => string>((v) => typeof v === 'function')])
    .optional(),
  /**
   * Bytes of the HMAC kept (8–32). Fewer bytes mean more false positives (check the decrypted value)
   * but less information for someone with the table: 8 bytes ≈ 1 collision per 2^32 values.
   * @default 16
   */
  bytes: z.number().int().min(8).max(32).optional(),
});
/** Input of blind-index options. */
export type BlindIndexOptions = z.input<typeof BlindIndexOptionsSchema>;

const wellFormed = (s: string): boolean => (s as unknown as { isWellFormed(): boolean }).isWellFormed();
const invalid = (message: string) => new ValidationError('blind index input', [{ path: [], message }]);

/**
 * Apply a normalisation (NFC first).
 * @throws ValidationError `VALIDATION_FAILED` when the value (or what a custom normalisation returns)
 * is not a well-formed string, or a custom normalisation throws
 */
export function normalizeValue(value: string, normalize: Normalize = 'trim-lowercase'): string {
  if (typeof value !== 'string' || !wellFormed(value)) throw invalid('must be a well-formed string');
  const v = value.normalize('NFC');
  if (typeof normalize === 'function') {
    let out: unknown;
    try {
      out = normalize(v);
    } catch {
      throw invalid('the custom normalisation threw');
    }
    if (typeof out !== 'string' || !wellFormed(out)) {
      throw invalid('the custom normalisation must return a well-formed string');
    }
    return out;
  }
  switch (parseInput(NormalizeSchema, normalize, 'blind index normalisation')) {
    case 'none':
      return v;
    case 'trim':
      return v.trim();
    case 'trim-lowercase':
      return v.trim().toLowerCase();
    case 'digits':
      return v.replace(/\D+/g, '');
  }
}

const utf8 = new TextEncoder();

/** HMAC-SHA256 of the normalised value under a field key, truncated, base64url. @internal */
export function computeBlindIndex(
  fieldKey: Uint8Array,
  value: string,
  options: BlindIndexOptions = {},
): string {
  const mac = hmac(sha256, fieldKey, utf8.encode(normalizeValue(value, options.normalize)));
  return Buffer.from(mac.subarray(0, options.bytes ?? 16)).toString('base64url');
}
