import { VaultError } from '../errors.js';

/**
 * Reads exact byte counts from an async stream of chunks, holding at most one pending chunk plus
 * what the caller asked for (memory stays bounded: V6).
 */
export class ByteReader {
  readonly #iterator: AsyncIterator<Uint8Array>;
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  #done = false;
  /** Bytes handed out so far. */
  consumed = 0;

  constructor(
    source: AsyncIterable<Uint8Array>,
    private readonly what: string,
  ) {
    this.#iterator = source[Symbol.asyncIterator]();
  }

  async #fill(n: number): Promise<void> {
    while (this.#pendingBytes < n && !this.#done) {
      const next = await this.#iterator.next();
      if (next.done) {
        this.#done = true;
        break;
      }
      const chunk = Buffer.isBuffer(next.value)
        ? next.value
        : Buffer.from(next.value.buffer, next.value.byteOffset, next.value.byteLength);
      if (chunk.byteLength === 0) continue;
      this.#pending.push(chunk);
      this.#pendingBytes += chunk.byteLength;
    }
  }

  /** Exactly `n` bytes, or `null` at a clean end of stream; a stream ending inside the `n` bytes is corrupt. */
  async read(n: number): Promise<Buffer | null> {
    await this.#fill(n);
    if (this.#pendingBytes === 0 && this.#done) return null;
    if (this.#pendingBytes < n) {
      throw new VaultError(
        'VAULT_SNAPSHOT_CORRUPT',
        `The ${this.what} ends in the middle of a frame (truncated)`,
      );
    }
    let out: Buffer;
    const first = this.#pending[0] as Buffer;
    if (first.byteLength >= n) {
      out = first.subarray(0, n);
      if (first.byteLength === n) this.#pending.shift();
      else this.#pending[0] = first.subarray(n);
    } else {
      out = Buffer.allocUnsafe(n);
      let at = 0;
      while (at < n) {
        const head = this.#pending[0] as Buffer;
        const take = Math.min(head.byteLength, n - at);
        head.copy(out, at, 0, take);
        at += take;
        if (take === head.byteLength) this.#pending.shift();
        else this.#pending[0] = head.subarray(take);
      }
    }
    this.#pendingBytes -= n;
    this.consumed += n;
    return out;
  }

  /** Whether the stream has no byte left. */
  async atEnd(): Promise<boolean> {
    await this.#fill(1);
    return this.#pendingBytes === 0 && this.#done;
  }

  /** Stop reading the source early (closes it). */
  async close(): Promise<void> {
    await this.#iterator.return?.();
  }
}
