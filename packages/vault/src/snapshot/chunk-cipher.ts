import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  hkdfSync,
  timingSafeEqual,
} from 'node:crypto';
import { VaultError } from '../errors.js';
import { ByteReader } from './byte-reader.js';

// The data object of a snapshot: HEADER, then chunks, STREAM-style (Hoang, Reyhanitabar, Rogaway,
// Vizár 2015): each chunk is sealed with AES-256-GCM under a per-snapshot key, with a nonce made of
// its index and a final-chunk flag, and associated data binding format, tenant and snapshot id. So a
// dropped, reordered, duplicated or spliced chunk, a truncation (no final chunk) and trailing bytes
// all fail, and a chunk of another snapshot or tenant does not open.
//   HEADER  "TNVS" | u8 format version (1)
//   CHUNK   u8 flag (0 = more follow, 1 = final) | u32 sealed length | ciphertext | 16-byte tag
/** Format version of the data object and manifest. */
export const FORMAT_VERSION = 1;
const MAGIC = Buffer.from('TNVS', 'ascii');
const TAG_BYTES = 16;
/** Plaintext (compressed) bytes per chunk. @default 65536 */
export const DEFAULT_CHUNK_BYTES = 64 * 1024;
const MAX_CHUNK_BYTES = 16 * 1024 * 1024;

/** Keys derived from a snapshot's random master key (HKDF-SHA256, salt = snapshot id). */
export interface SnapshotKeys {
  readonly chunk: Buffer;
  readonly manifest: Buffer;
}

export function deriveSnapshotKeys(master: Uint8Array, snapshotId: string): SnapshotKeys {
  const derive = (info: string): Buffer =>
    Buffer.from(hkdfSync('sha256', master, Buffer.from(snapshotId, 'utf8'), Buffer.from(info, 'utf8'), 32));
  return { chunk: derive('tenantry-vault/1 chunk'), manifest: derive('tenantry-vault/1 manifest') };
}

function nonceOf(index: number, final: boolean): Buffer {
  const n = Buffer.alloc(12);
  n.writeUIntBE(index, 3, 6); // up to 2^48 chunks
  n[11] = final ? 1 : 0;
  return n;
}

function aadOf(tenantId: string, snapshotId: string, index: number, final: boolean): Buffer {
  return Buffer.concat([
    Buffer.from(`tenantry-vault/${FORMAT_VERSION}\u0000${tenantId}\u0000${snapshotId}\u0000`, 'utf8'),
    nonceOf(index, final),
  ]);
}

/** What the writer reports once the data object is complete. */
export interface SealedStats {
  chunks: number;
  size: number;
  sha256: string;
}

/**
 * Seals a stream of (compressed) bytes into the chunked format, yielding the data object's bytes.
 * One chunk is held back until the next one (or the end) shows whether it is final.
 */
export async function* sealChunks(
  source: AsyncIterable<Uint8Array>,
  keys: SnapshotKeys,
  ids: { tenantId: string; snapshotId: string },
  stats: SealedStats,
  chunkBytes = DEFAULT_CHUNK_BYTES,
): AsyncGenerator<Buffer> {
  const hash = createHash('sha256');
  const emit = (b: Buffer): Buffer => {
    hash.update(b);
    stats.size += b.byteLength;
    return b;
  };
  yield emit(Buffer.concat([MAGIC, Buffer.from([FORMAT_VERSION])]));
  let index = 0;
  const seal = (plain: Buffer, final: boolean): Buffer => {
    const cipher = createCipheriv('aes-256-gcm', keys.chunk, nonceOf(index, final));
    cipher.setAAD(aadOf(ids.tenantId, ids.snapshotId, index, final));
    const body = Buffer.concat([cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
    const head = Buffer.allocUnsafe(5);
    head[0] = final ? 1 : 0;
    head.writeUInt32BE(body.byteLength, 1);
    index++;
    return Buffer.concat([head, body]);
  };
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  for await (const piece of source) {
    let buf = Buffer.isBuffer(piece) ? piece : Buffer.from(piece);
    while (buf.byteLength > 0) {
      // Emit a full chunk only once more bytes exist, so the last chunk is always the final one.
      if (pendingBytes === chunkBytes) {
        yield emit(seal(Buffer.concat(pending, pendingBytes), false));
        pending = [];
        pendingBytes = 0;
      }
      const take = Math.min(chunkBytes - pendingBytes, buf.byteLength);
      pending.push(buf.subarray(0, take));
      pendingBytes += take;
      buf = buf.subarray(take);
    }
  }
  yield emit(seal(Buffer.concat(pending, pendingBytes), true));
  stats.chunks = index;
  stats.sha256 = hash.digest('hex');
}

const corrupt = (why: string): VaultError =>
  new VaultError('VAULT_SNAPSHOT_CORRUPT', `Snapshot data failed verification: ${why}`);

/**
 * Opens a data object chunk by chunk, yielding plaintext only after each chunk authenticated. Fails
 * with `VAULT_SNAPSHOT_CORRUPT` on any fault: bad header, a chunk that does not open (tampered,
 * reordered, dropped, from another snapshot or tenant), a missing final chunk, bytes after it.
 */
export async function* openChunks(
  source: AsyncIterable<Uint8Array>,
  keys: SnapshotKeys,
  ids: { tenantId: string; snapshotId: string },
  stats: SealedStats,
): AsyncGenerator<Buffer> {
  const hash = createHash('sha256');
  const hashing = async function* (): AsyncGenerator<Uint8Array> {
    for await (const b of source) {
      hash.update(b);
      stats.size += b.byteLength;
      yield b;
    }
  };
  const reader = new ByteReader(hashing(), 'snapshot data');
  try {
    const header = await reader.read(MAGIC.byteLength + 1);
    if (header === null || !header.subarray(0, 4).equals(MAGIC)) throw corrupt('not a vault snapshot');
    if (header[4] !== FORMAT_VERSION) throw corrupt('unknown data format version');
    let index = 0;
    for (;;) {
      const head = await reader.read(5);
      if (head === null) throw corrupt('no final chunk (truncated)');
      const flag = head[0];
      if (flag !== 0 && flag !== 1) throw corrupt('bad chunk flag');
      const final = flag === 1;
      const len = head.readUInt32BE(1);
      if (len < TAG_BYTES || len > MAX_CHUNK_BYTES + TAG_BYTES) throw corrupt('bad chunk length');
      const body = await reader.read(len);
      if (body === null) throw corrupt('truncated chunk');
      let plain: Buffer;
      try {
        const decipher = createDecipheriv('aes-256-gcm', keys.chunk, nonceOf(index, final));
        decipher.setAAD(aadOf(ids.tenantId, ids.snapshotId, index, final));
        decipher.setAuthTag(body.subarray(len - TAG_BYTES));
        plain = Buffer.concat([decipher.update(body.subarray(0, len - TAG_BYTES)), decipher.final()]);
      } catch {
        throw corrupt(`chunk ${index} failed authentication`);
      }
      index++;
      if (plain.byteLength > 0) yield plain;
      if (final) {
        if (!(await reader.atEnd())) throw corrupt('bytes after the final chunk');
        break;
      }
    }
    stats.chunks = index;
    stats.sha256 = hash.digest('hex');
  } finally {
    await reader.close();
  }
}

/** HMAC-SHA256 (hex) of the manifest's canonical body. */
export function manifestMac(key: Buffer, canonicalBody: string): string {
  return createHmac('sha256', key).update(canonicalBody, 'utf8').digest('hex');
}

/** Constant-time comparison of two hex MACs. */
export function macEquals(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.byteLength === y.byteLength && timingSafeEqual(x, y);
}
