import { createHash, type Hash } from 'node:crypto';
import { VaultError } from '../errors.js';
import { ByteReader } from './byte-reader.js';

// The plaintext stream of a snapshot (before compression): for each module a MODULE frame, its
// records, an END frame; then one FINISH frame. Integers are big-endian.
//   MODULE  0x01 | u16 name length | name (UTF-8) | u32 schema version
//   RECORD  0x02 | u32 length | bytes
//   END     0x03
//   FINISH  0x04
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

export function recordHeader(length: number): Buffer {
  const b = Buffer.allocUnsafe(5);
  b[0] = RECORD;
  b.writeUInt32BE(length, 1);
  return b;
}

export const END_FRAME = Buffer.from([END]);
export const FINISH_FRAME = Buffer.from([FINISH]);

/** A module's records as hashed in the manifest: SHA-256 over each record's length (u32) and bytes. */
export class ModuleDigest {
  readonly #hash: Hash = createHash('sha256');
  records = 0;
  bytes = 0;
  add(record: Uint8Array): void {
    const len = Buffer.allocUnsafe(4);
    len.writeUInt32BE(record.byteLength, 0);
    this.#hash.update(len);
    this.#hash.update(record);
    this.records++;
    this.bytes += record.byteLength;
  }
  hex(): string {
    return this.#hash.digest('hex');
  }
}

/** What the frame parser yields. */
export type FrameEvent =
  | { kind: 'module'; name: string; schemaVersion: number }
  | { kind: 'record'; data: Buffer }
  | { kind: 'end' };

const corrupt = (why: string): VaultError => new VaultError('VAULT_SNAPSHOT_CORRUPT', `Snapshot content is malformed: ${why}`);

/** Parses the plaintext stream; any structural fault is `VAULT_SNAPSHOT_CORRUPT`. Ends after FINISH (nothing may follow). */
export async function* parseFrames(source: AsyncIterable<Uint8Array>): AsyncGenerator<FrameEvent> {
  const reader = new ByteReader(source, 'snapshot content');
  let inModule = false;
  for (;;) {
    const tag = await reader.read(1);
    if (tag === null) throw corrupt('no FINISH frame (truncated)');
    switch (tag[0]) {
      case MODULE: {
        if (inModule) throw corrupt('module frame inside a module');
        const nameLen = (await reader.read(2))?.readUInt16BE(0);
        if (nameLen === undefined || nameLen === 0 || nameLen > 64) throw corrupt('bad module name length');
        const name = (await reader.read(nameLen))?.toString('utf8');
        const version = (await reader.read(4))?.readUInt32BE(0);
        if (name === undefined || version === undefined) throw corrupt('truncated module frame');
        inModule = true;
        yield { kind: 'module', name, schemaVersion: version };
        break;
      }
      case RECORD: {
        if (!inModule) throw corrupt('record outside a module');
        const len = (await reader.read(4))?.readUInt32BE(0);
        if (len === undefined || len > MAX_RECORD_BYTES) throw corrupt('bad record length');
        const data = len === 0 ? Buffer.alloc(0) : await reader.read(len);
        if (data === null) throw corrupt('truncated record');
        yield { kind: 'record', data };
        break;
      }
      case END:
        if (!inModule) throw corrupt('end frame outside a module');
        inModule = false;
        yield { kind: 'end' };
        break;
      case FINISH:
        if (inModule) throw corrupt('finish frame inside a module');
        if (!(await reader.atEnd())) throw corrupt('bytes after the finish frame');
        return;
      default:
        throw corrupt('unknown frame');
    }
  }
}
