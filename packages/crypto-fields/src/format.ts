/**
 * The ciphertext format, version 1:
 *
 *     tcf1:<alg>:<keyId>:<base64url(nonce ‖ commitment ‖ ciphertext ‖ tag)>
 *
 * - `tcf1:` marks a ciphertext (the migration test: any other string is legacy plaintext);
 * - `<alg>` is `x` (XChaCha20-Poly1305, 24-byte nonce) or `g` (AES-256-GCM, 12-byte nonce);
 * - `<keyId>` is the data key id, `[A-Za-z0-9_-]{1,64}`;
 * - commitment is 32 bytes: HMAC-SHA256 of the data key under a fixed label (see `key-material.ts`);
 * - the AEAD's associated data is `header ‖ context`, where header is the ASCII text `tcf1:<alg>:<keyId>:`
 *   and context is the length-prefixed encoding of tenant, collection, field and optional row id.
 *
 * The plaintext inside the AEAD starts with one type byte (`0x01` UTF-8 string, `0x02` JSON text).
 */
import { type AlgorithmCode, TAG_LENGTH } from './aead.js';
import { decryptFailed } from './errors.js';

/** Prefix that marks a value as a ciphertext of this package (format version 1). */
export const CIPHERTEXT_PREFIX = 'tcf1:';
/** Length of the key commitment stored in every ciphertext, in bytes. */
export const COMMITMENT_LENGTH = 32;
/** Pattern every key id matches. */
export const KEY_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/** Type byte of a sealed UTF-8 string. */
export const TYPE_STRING = 1;
/** Type byte of a sealed JSON value. */
export const TYPE_JSON = 2;

/** Where a value lives: bound into every ciphertext as associated data. */
export interface FieldContext {
  /** Tenant that owns the value. Defaults to the current tenant context where the API allows. */
  tenantId: string;
  /** Table or collection name. */
  collection: string;
  /** Field (column or declared path) name. */
  field: string;
  /** Row or document id; binding it stops a value from being copied to another row. */
  rowId?: string | undefined;
}

const NONCE_LENGTH: Record<AlgorithmCode, number> = { x: 24, g: 12 };

/** Nonce length for an algorithm code. */
export const nonceLengthOf = (code: AlgorithmCode): number => NONCE_LENGTH[code];

/** Whether a string is (claims to be) a ciphertext of this package. */
export const isCiphertext = (value: unknown): value is string =>
  typeof value === 'string' && value.startsWith(CIPHERTEXT_PREFIX);

/** ASCII bytes of the header `tcf1:<alg>:<keyId>:`. */
export function headerText(code: AlgorithmCode, keyId: string): string {
  return `${CIPHERTEXT_PREFIX}${code}:${keyId}:`;
}

const utf8 = new TextEncoder();

/**
 * Unambiguous encoding of a context: each part is a 4-byte big-endian byte length then its UTF-8 bytes;
 * the row id is preceded by a presence byte (0 absent, 1 present), so no two contexts encode alike.
 */
export function encodeContext(ctx: FieldContext): Uint8Array {
  return buildAad(EMPTY, ctx);
}

const EMPTY = new Uint8Array(0);

/** `header ‖ encodeContext(ctx)`, in a fresh array. */
export function buildAad(header: Uint8Array, ctx: FieldContext): Uint8Array {
  const out = new Uint8Array(maxAadLength(header, ctx));
  return out.subarray(0, writeAad(out, Buffer.from(out.buffer), header, ctx));
}

/**
 * Scratch space for {@link transientAad}, as a plain Uint8Array (stores into it are cheaper than into a
 * Buffer) and a Buffer over the same bytes (for Node's UTF-8 encoder). Not from Buffer's shared pool: an
 * allocation per value (about 100 bytes) used the pool up every few dozen values, and replacing it was
 * a visible share of `open`.
 */
const AAD_SCRATCH = new Uint8Array(2048);
const AAD_SCRATCH_BUFFER = Buffer.from(AAD_SCRATCH.buffer);

/**
 * What the scratch starts with: `header ‖ tenant ‖ collection ‖ field` of the last call, ending at
 * `scratchPrefixEnd`. Only {@link transientAad} writes the scratch, and it updates these with it.
 * The header is compared by identity (a key's header bytes are made once and never changed).
 */
let scratchHeader: Uint8Array | undefined;
let scratchTenant = '';
let scratchCollection = '';
let scratchField = '';
let scratchPrefixEnd = 0;

/** Views of the first n bytes of {@link AAD_SCRATCH}, by n (at most 2,049 small objects). */
const AAD_VIEWS: (Uint8Array | undefined)[] = [];

/**
 * `header ‖ encodeContext(ctx)` written into a buffer shared by every call (the per-value hot path).
 * The result is valid only until the next call: pass it straight to the cipher, which reads it
 * synchronously, and never keep it. Falls back to a fresh array for very long contexts.
 * @internal
 */
export function transientAad(header: Uint8Array, ctx: FieldContext): Uint8Array {
  // Stryker disable next-line ConditionalExpression,EqualityOperator: a fresh array holds the same bytes (speed only)
  if (maxAadLength(header, ctx) > AAD_SCRATCH.length) return buildAad(header, ctx);
  const { tenantId, collection, field, rowId } = ctx;
  let o: number;
  if (
    header === scratchHeader &&
    tenantId === scratchTenant &&
    collection === scratchCollection &&
    field === scratchField
  ) {
    // The scratch already starts with `header ‖ tenant ‖ collection ‖ field` (the same field of
    // another row, or the same value again): only the row id part is written.
    o = scratchPrefixEnd;
  } else {
    AAD_SCRATCH.set(header, 0);
    o = writePart(AAD_SCRATCH, AAD_SCRATCH_BUFFER, tenantId, header.length);
    o = writePart(AAD_SCRATCH, AAD_SCRATCH_BUFFER, collection, o);
    o = writePart(AAD_SCRATCH, AAD_SCRATCH_BUFFER, field, o);
    scratchHeader = header;
    scratchTenant = tenantId;
    scratchCollection = collection;
    scratchField = field;
    scratchPrefixEnd = o;
  }
  let n: number;
  if (rowId === undefined) {
    AAD_SCRATCH[o] = 0;
    n = o + 1;
  } else {
    AAD_SCRATCH[o] = 1;
    n = writePart(AAD_SCRATCH, AAD_SCRATCH_BUFFER, rowId, o + 1);
  }
  // One view of the scratch per length, made once: a view per value was a visible share of `open`.
  let view = AAD_VIEWS[n];
  if (view === undefined) {
    view = new Uint8Array(AAD_SCRATCH.buffer, 0, n);
    AAD_VIEWS[n] = view;
  }
  return view;
}

/** Room {@link writeAad} may need: UTF-8 takes at most 3 bytes per UTF-16 code unit. */
function maxAadLength(header: Uint8Array, { tenantId, collection, field, rowId }: FieldContext): number {
  const chars = tenantId.length + collection.length + field.length + (rowId?.length ?? 0);
  return header.length + 17 + 3 * chars;
}

/**
 * Write `header ‖ encodeContext(ctx)` at the start of `out` (room: {@link maxAadLength}); `buf` is a
 * Buffer over the same bytes. Returns the length written.
 */
function writeAad(out: Uint8Array, buf: Buffer, header: Uint8Array, ctx: FieldContext): number {
  out.set(header, 0);
  let o = writePart(out, buf, ctx.tenantId, header.length);
  o = writePart(out, buf, ctx.collection, o);
  o = writePart(out, buf, ctx.field, o);
  if (ctx.rowId === undefined) {
    out[o] = 0;
    return o + 1;
  }
  out[o] = 1;
  return writePart(out, buf, ctx.rowId, o + 1);
}

/** Write `u32be(byte length) ‖ UTF-8(s)` at `o`; returns the offset after it. */
function writePart(out: Uint8Array, buf: Buffer, s: string, o: number): number {
  const at = o + 4;
  const n = s.length;
  let i = 0;
  // ASCII (ids and names, nearly every context) is copied here: for a few dozen characters this is
  // cheaper than measuring and then writing through Node's UTF-8 encoder (two calls into C++ per part).
  for (; i < n; i++) {
    const c = s.charCodeAt(i);
    // Stryker disable next-line EqualityOperator,ConditionalExpression: Node's encoder writes the same bytes for U+007F (or for all of it)
    if (c > 0x7f) break;
    out[at + i] = c;
  }
  // Stryker disable next-line StringLiteral,ConditionalExpression: Node's default encoding is UTF-8; encoding the empty rest adds 0
  const len = i === n ? n : i + buf.write(s.slice(i), at + i, 'utf8');
  // Big-endian; a Uint8Array keeps the low 8 bits of what is stored.
  out[o] = len >>> 24;
  out[o + 1] = len >>> 16;
  out[o + 2] = len >>> 8;
  out[o + 3] = len;
  return at + len;
}

/** Length-prefixed (4-byte big-endian length, then UTF-8) concatenation of strings, for labels. */
export function encodeParts(...parts: string[]): Uint8Array {
  const encoded = parts.map((p) => utf8.encode(p));
  let total = 0;
  for (const e of encoded) total += 4 + e.length;
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  let o = 0;
  for (const e of encoded) {
    view.setUint32(o, e.length);
    out.set(e, o + 4);
    o += 4 + e.length;
  }
  return out;
}

/**
 * The header `tcf1:<alg>:<keyId>:` of one key and algorithm, as text and ASCII bytes, with its parts.
 * Holds no key. @internal
 */
export interface KeyHeader {
  readonly text: string;
  readonly bytes: Uint8Array;
  readonly code: AlgorithmCode;
  readonly keyId: string;
}

/** A parsed (not yet authenticated) ciphertext. */
export interface ParsedCiphertext {
  code: AlgorithmCode;
  keyId: string;
  /** The decoded body: nonce ‖ commitment ‖ ciphertext ‖ tag. */
  body: Uint8Array;
  /** `body`'s first bytes. */
  nonce: Uint8Array;
  /** Ciphertext ‖ tag: `body` after the nonce and the commitment. */
  sealed: Uint8Array;
}

/**
 * Whether the key commitment stored in a ciphertext equals `commitment`, in constant time (no early
 * exit, like noble's `equalBytes`), read in place: a view of it would be one more object per value.
 */
export function commitmentMatches(parsed: ParsedCiphertext, commitment: Uint8Array): boolean {
  const { body } = parsed;
  const at = parsed.nonce.length;
  // Stryker disable next-line ConditionalExpression: both are always 32 bytes
  if (commitment.length !== COMMITMENT_LENGTH) return false;
  let diff = 0;
  for (let i = 0; i < COMMITMENT_LENGTH; i++) diff |= body[at + i]! ^ commitment[i]!;
  return diff === 0;
}

/** Value of each base64url character (-1 outside the alphabet), for the last character's unused bits. */
const B64URL = new Int8Array(128).fill(-1);
for (const [i, ch] of [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'].entries()) {
  B64URL[ch.charCodeAt(0)] = i;
}
/** A code unit above U+00FF: Node's decoder reads only its low byte (U+0141 would decode as `A`). */
const WIDE_CHAR = /[\u0100-\uffff]/;

/**
 * Strict base64url (no padding, no whitespace, no `+`/`/` aliases, canonical trailing bits): the input
 * must be exactly the canonical encoding of what it decodes to, so every change to the text is a change
 * to the bytes. Checked without re-encoding the whole value (a second per-byte pass that cost a quarter
 * of `open` on 64 KiB values):
 *
 * - Node's decoder skips every character outside its alphabet (whitespace, `=`, `.`, U+0080–U+00FF), and
 *   a skipped character always shortens the output: the decoded length must be exactly
 *   `⌊3·length/4⌋`, and a length of 4k+1 is never canonical;
 * - it also accepts the standard alphabet's `+` and `/` (aliases of `-` and `_`): refused;
 * - it reads only the low byte of a code unit above U+00FF: refused (the test is free on a one-byte
 *   string, which is every genuine ciphertext);
 * - the last character's unused low bits must be zero.
 *
 * `test/format.test.ts` checks this against decode-and-re-encode for every code unit at several positions.
 */
export function decodeBase64UrlStrict(s: string): Uint8Array | undefined {
  const b = decodeStrict(s);
  return b === undefined ? undefined : new Uint8Array(b.buffer, b.byteOffset, b.length);
}

/** {@link decodeBase64UrlStrict}, returning Node's own Buffer (no second view object). */
function decodeStrict(s: string): Buffer | undefined {
  const n = s.length;
  const rem = n & 3;
  if (rem === 1) return undefined;
  const b = Buffer.from(s, 'base64url');
  if (b.length !== (n >>> 2) * 3 + (rem === 0 ? 0 : rem - 1)) return undefined;
  if (s.indexOf('+') !== -1 || s.indexOf('/') !== -1 || WIDE_CHAR.test(s)) return undefined;
  if (rem !== 0) {
    // Stryker disable next-line UnaryOperator: unreachable: a last character outside the one-byte alphabet already failed the length or wide-character check
    const last = B64URL[s.charCodeAt(n - 1)] ?? -1;
    if (last < 0 || (last & (rem === 2 ? 0x0f : 0x03)) !== 0) return undefined;
  }
  return b;
}

/**
 * Split a ciphertext string into its parts. Throws `CRYPTO_DECRYPT_FAILED` on any malformation (callers
 * check {@link isCiphertext} first to route plaintext).
 * @throws CryptoFieldsError `CRYPTO_DECRYPT_FAILED`
 */
export function parseCiphertext(text: string, known?: KeyHeader): ParsedCiphertext {
  // tcf1:<a>:<kid>:<body>
  let codeChar: AlgorithmCode;
  let keyId: string;
  let bodyAt: number;
  if (known !== undefined && text.startsWith(known.text)) {
    // A header built from a valid key id (the last one opened): the full parse below would find the
    // same code, key id and body. Its key id is a long-lived string, so the key-cache lookup does not
    // hash a freshly sliced one.
    codeChar = known.code;
    keyId = known.keyId;
    bodyAt = known.text.length;
  } else {
    const p = CIPHERTEXT_PREFIX.length;
    if (text.charCodeAt(p + 1) !== 58 /* : */) throw decryptFailed();
    const c = text[p];
    if (c !== 'x' && c !== 'g') throw decryptFailed();
    codeChar = c;
    const kidEnd = text.indexOf(':', p + 2);
    // Stryker disable next-line all: without a third ':' the body holds ':' characters, which fail the strict base64url length check
    if (kidEnd < 0) throw decryptFailed();
    keyId = text.slice(p + 2, kidEnd);
    if (!KEY_ID_PATTERN.test(keyId)) throw decryptFailed();
    bodyAt = kidEnd + 1;
  }
  const b = decodeStrict(text.slice(bodyAt));
  const nonceLength = NONCE_LENGTH[codeChar];
  if (b === undefined || b.length < nonceLength + COMMITMENT_LENGTH + TAG_LENGTH + 1) {
    throw decryptFailed();
  }
  // Views made directly (each is an object per value; Buffer#subarray is slower than this).
  const { buffer, byteOffset, length } = b;
  const sealedAt = nonceLength + COMMITMENT_LENGTH;
  return {
    code: codeChar,
    keyId,
    body: b,
    nonce: new Uint8Array(buffer, byteOffset, nonceLength),
    sealed: new Uint8Array(buffer, byteOffset + sealedAt, length - sealedAt),
  };
}

/** What {@link describeValue} says about a stored value, without decrypting it. */
export type ValueDescription =
  | { kind: 'ciphertext'; formatVersion: 1; algorithm: 'xchacha20-poly1305' | 'aes-256-gcm'; keyId: string }
  | { kind: 'plaintext' }
  | { kind: 'malformed' };

/**
 * Read the self-describing header of a stored value: format version, algorithm and key id, or
 * whether it is legacy plaintext. Does not authenticate anything.
 * @example describeValue('tcf1:x:dk1:...') // { kind: 'ciphertext', formatVersion: 1, algorithm: 'xchacha20-poly1305', keyId: 'dk1' }
 */
export function describeValue(value: string): ValueDescription {
  if (!isCiphertext(value)) return { kind: 'plaintext' };
  try {
    const parsed = parseCiphertext(value);
    return {
      kind: 'ciphertext',
      formatVersion: 1,
      algorithm: parsed.code === 'x' ? 'xchacha20-poly1305' : 'aes-256-gcm',
      keyId: parsed.keyId,
    };
  } catch {
    return { kind: 'malformed' };
  }
}
