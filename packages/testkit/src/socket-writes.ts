import { Socket } from 'node:net';

/** What {@link recordSocketWrites} saw: one entry per write the kernel was asked for. */
export interface SocketWriteLog {
  /** The bytes of each write, as latin1 text (protocol messages stay readable). */
  readonly writes: string[];
  /** Stop recording (restores `net.Socket`'s own methods); idempotent. */
  restore(): void;
}

/**
 * Record every socket write of this process (`net.Socket#_write` and `#_writev`, the calls that reach
 * the kernel: several corked chunks make one `_writev`) until `restore()`. Counts how many segments a
 * driver sends for one operation; run nothing else meanwhile.
 * @example
 * const log = recordSocketWrites();
 * try { await uow.query('SELECT 1'); } finally { log.restore(); }
 * expect(log.writes).toHaveLength(1);
 */
export function recordSocketWrites(): SocketWriteLog {
  const proto = Socket.prototype as unknown as Record<'_write' | '_writev', (...a: unknown[]) => unknown>;
  const originals = { _write: proto._write, _writev: proto._writev };
  const writes: string[] = [];
  proto._write = function (this: unknown, ...a: unknown[]) {
    writes.push(Buffer.from(a[0] as Uint8Array).toString('latin1'));
    return originals._write.apply(this, a);
  };
  proto._writev = function (this: unknown, ...a: unknown[]) {
    const chunks = (a[0] as { chunk: Uint8Array }[]).map((c) => Buffer.from(c.chunk));
    writes.push(Buffer.concat(chunks).toString('latin1'));
    return originals._writev.apply(this, a);
  };
  let restored = false;
  return {
    writes,
    restore: () => {
      if (restored) return;
      restored = true;
      Object.assign(proto, originals);
    },
  };
}
