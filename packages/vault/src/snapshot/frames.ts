import { createHash, type Hash } from 'node:crypto';
import { VaultError } from '../errors.js';

// The plaintext stream of a snapshot (before compression): for each module a MODULE frame, its
// RECORD frames, an END frame; then one FINISH frame. Integers are big-endian.
//   MODULE  0x01 | u16 name length | name (UTF-8) | u32 schema version
//   RECORD  0x02 | u32 length | bytes
//   END     0x03
//   FINISH  0x04
// A module's SHA-256 (in the manifest) is taken over its RECORD frames exactly as they appear.
const MODULE = 0x01;
const RECORD = 0x02;
const END = 0x03;
const FINISH = 0x04;
/** Largest record accepted (a row or document): 256 MiB. */
export const MAX_RECORD_BYTES = 256 * 1024 * 1024;

export function moduleFrame(name: string, schemaVersion: number): Buffer {
  const nameBytes = Buffer.from(name, 'utf8');
  const b = Buffer.allocUnsafe(1 + 2 + nameBytes.byteLength + 4);
  b[0] = MODULE;
  b.writeUInt16BE(nameBytes.byteLength, 1);
  nameBytes.copy(b, 3);
  b.writeUInt32BE(schemaVersion, 3 + nameBytes.byteLength);
  return b;
}

/** RECORD frames of `records`, in one buffer. */
export function recordFrames(records: readonly Uint8Array[]): Buffer {
  let size = 0;
  for (const r of records) size += 5 + r.byteLength;
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  for (const r of records) {
    out[at] = RECORD;
    out.writeUInt32BE(r.byteLength, at + 1);
    out.set(r, at + 5);
    at += 5 + r.byteLength;
  }
  return out;
}

export const END_FRAME = Buffer.from([END]);
export const FINISH_FRAME = Buffer.from([FINISH]);

/** A module's running digest: SHA-256 over its RECORD frames, and the record count. */
export class ModuleDigest {
  readonly #hash: Hash = createHash('sha256');
  records = 0;
  add(frames: Uint8Array, records: number): void {
    this.#hash.update(frames);
    this.records += records;
  }
  hex(): string {
    return this.#hash.digest('hex');
  }
}

/** What the frame parser yields (records come in batches, in order). */
export type FrameEvent =
  | { kind: 'module'; name: string; schemaVersion: number }
  | { kind: 'records'; data: Buffer[] }
  | { kind: 'end'; digest: ModuleDigest };

const corrupt = (why: string): VaultError =>
  new VaultError('VAULT_SNAPSHOT_CORRUPT', `Snapshot content is malformed: ${why}`);

/**
 * Incremental parser of the plaintext stream: `push` each decompressed chunk, get the complete frames
 * in it (synchronously, zero-copy where a record lies inside one chunk). Any structural fault is
 * `VAULT_SNAPSHOT_CORRUPT`. Only the bytes of one unfinished frame are held between chunks.
 */
export class FrameParser {
  #parts: Buffer[] = [];
  #partsBytes = 0;
  #need = 1;
  #inModule = false;
  #finished = false;
  #digest: ModuleDigest | undefined;

  get finished(): boolean {
    return this.#finished;
  }

  push(chunk: Buffer): FrameEvent[] {
    if (chunk.byteLength === 0) return [];
    if (this.#finished) throw corrupt('bytes after the finish frame');
    this.#parts.push(chunk);
    this.#partsBytes += chunk.byteLength;
    if (this.#partsBytes < this.#need) return [];
    const buf =
      this.#parts.length === 1 ? (this.#parts[0] as Buffer) : Buffer.concat(this.#parts, this.#partsBytes);
    this.#parts = [];
    this.#partsBytes = 0;
    return this.#parse(buf);
  }

  /** The stream ended: it must have ended right after FINISH. */
  end(): void {
    if (!this.#finished || this.#partsBytes > 0) throw corrupt('no finish frame (truncated)');
  }

  #parse(buf: Buffer): FrameEvent[] {
    const events: FrameEvent[] = [];
    let records: Buffer[] = [];
    let runStart = -1;
    let off = 0;
    const closeRun = (): void => {
      if (runStart >= 0) {
        this.#digest?.add(buf.subarray(runStart, off), records.length);
        events.push({ kind: 'records', data: records });
        records = [];
        runStart = -1;
      }
    };
    while (off < buf.byteLength) {
      if (this.#finished) throw corrupt('bytes after the finish frame');
      const tag = buf[off];
      const avail = buf.byteLength - off;
      if (tag === RECORD) {
        if (!this.#inModule) throw corrupt('record outside a module');
        if (avail < 5) return this.#keep(buf, off, 5, closeRun, events);
        const len = buf.readUInt32BE(off + 1);
        if (len > MAX_RECORD_BYTES) throw corrupt('bad record length');
        if (avail < 5 + len) return this.#keep(buf, off, 5 + len, closeRun, events);
        if (runStart < 0) runStart = off;
        records.push(buf.subarray(off + 5, off + 5 + len));
        off += 5 + len;
        continue;
      }
      closeRun();
      if (tag === MODULE) {
        if (this.#inModule) throw corrupt('module frame inside a module');
        if (avail < 3) return this.#keep(buf, off, 3, closeRun, events);
        const nameLen = buf.readUInt16BE(off + 1);
        if (nameLen === 0 || nameLen > 64) throw corrupt('bad module name length');
        if (avail < 3 + nameLen + 4) return this.#keep(buf, off, 3 + nameLen + 4, closeRun, events);
        const name = buf.toString('utf8', off + 3, off + 3 + nameLen);
        const schemaVersion = buf.readUInt32BE(off + 3 + nameLen);
        this.#inModule = true;
        this.#digest = new ModuleDigest();
        events.push({ kind: 'module', name, schemaVersion });
        off += 3 + nameLen + 4;
      } else if (tag === END) {
        if (!this.#inModule) throw corrupt('end frame outside a module');
        this.#inModule = false;
        events.push({ kind: 'end', digest: this.#digest as ModuleDigest });
        this.#digest = undefined;
        off += 1;
      } else if (tag === FINISH) {
        if (this.#inModule) throw corrupt('finish frame inside a module');
        this.#finished = true;
        off += 1;
      } else {
        throw corrupt('unknown frame');
      }
    }
    closeRun();
    this.#need = 1;
    return events;
  }

  /** Keeps the unfinished frame at `off` (it needs `need` bytes) for the next push. */
  #keep(buf: Buffer, off: number, need: number, closeRun: () => void, events: FrameEvent[]): FrameEvent[] {
    closeRun();
    // A copy, so the (possibly large) chunk it came from is not retained.
    const rest = Buffer.from(buf.subarray(off));
    this.#parts = [rest];
    this.#partsBytes = rest.byteLength;
    this.#need = need;
    return events;
  }
}
