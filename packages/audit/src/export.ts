import { type Checkpoint, verifyCheckpointSignature } from './checkpoint.js';
import { AuditError } from './errors.js';
import type { ChainedEvent } from './event.js';
import { checkIterable, invalid, isRecord } from './guards.js';
import { type VerifyResult, verifyEvents } from './verify.js';

/** Format name in the first line of an export. */
export const EXPORT_FORMAT = 'tenantry-audit-export';

/**
 * JSON lines of a chain's trail: one header line, one line per event (chain fields and the exact
 * canonical text that was hashed), then one line per checkpoint.
 */
export async function* exportLines(
  chain: string,
  batches: AsyncIterable<readonly ChainedEvent[]>,
  checkpoints: () => Promise<Checkpoint[]>,
): AsyncIterable<string> {
  yield JSON.stringify({ type: 'header', format: EXPORT_FORMAT, v: 1, chain });
  for await (const batch of batches) {
    for (const e of batch) {
      yield JSON.stringify({
        type: 'event',
        id: e.id,
        chain: e.chain,
        seq: e.seq,
        recordedAt: e.recordedAt,
        prevHash: e.prevHash,
        hash: e.hash,
        text: e.text,
      });
    }
  }
  for (const cp of await checkpoints()) yield JSON.stringify({ type: 'checkpoint', ...cp });
}

/** Options of {@link verifyExport}. */
export interface VerifyExportOptions {
  /** Ed25519 public keys (hex) of the checkpoint signer. */
  publicKeys: readonly string[];
  /**
   * Checkpoints the verifier kept independently. Those inside the export could have been dropped by
   * whoever produced it, so only kept checkpoints prove the tail was not cut off.
   */
  checkpoints?: readonly Checkpoint[];
}

/**
 * Verify an exported trail with nothing but the public key: every event's hash and link, and every
 * checkpoint (in the export and kept separately) must be validly signed and match.
 * @throws AuditError `AUDIT_CHECKPOINT_INVALID` when a checkpoint's signature does not verify; `AUDIT_EXPORT_INVALID` for a malformed export
 * @throws ValidationError `VALIDATION_FAILED` when `lines` is not an iterable (a string is refused) or `options.publicKeys` is not an array of strings
 * @example const r = await verifyExport(readFileSync('acme.jsonl', 'utf8').split('\n'), { publicKeys: [pub] });
 */
export async function verifyExport(
  lines: AsyncIterable<string> | Iterable<string>,
  options: VerifyExportOptions,
): Promise<VerifyResult> {
  const what = 'export verification';
  checkIterable(lines, what, 'lines');
  if (!isRecord(options)) invalid(what, 'options', 'must be an object with publicKeys');
  const { publicKeys, checkpoints: given } = options;
  if (!Array.isArray(publicKeys) || !publicKeys.every((k) => typeof k === 'string')) {
    invalid(what, 'options.publicKeys', 'must be an array of hex public keys');
  }
  if (given !== undefined && !Array.isArray(given)) invalid(what, 'options.checkpoints', 'must be an array');
  let chain: string | undefined;
  const events: ChainedEvent[] = [];
  const checkpoints: unknown[] = [...(options.checkpoints ?? [])];
  let n = 0;
  for await (const line of lines) {
    n++;
    if (typeof line !== 'string' || line.trim() === '') continue;
    let rec: { type: string } & Record<string, unknown>;
    try {
      rec = JSON.parse(line) as { type: string } & Record<string, unknown>;
    } catch (error) {
      throw new AuditError('AUDIT_EXPORT_INVALID', `Line ${n} of the export is not JSON`, {
        cause: error,
        details: { line: n },
      });
    }
    if (rec === null || typeof rec !== 'object') {
      throw new AuditError('AUDIT_EXPORT_INVALID', `Line ${n} of the export is not a JSON object`, {
        details: { line: n },
      });
    }
    if (rec.type === 'header') {
      if (typeof rec.chain !== 'string') {
        throw new AuditError('AUDIT_EXPORT_INVALID', `Line ${n} of the export is a header without a chain`, {
          details: { line: n },
        });
      }
      chain = rec.chain;
    } else if (rec.type === 'event') {
      if (!Number.isSafeInteger(rec.seq)) {
        throw new AuditError('AUDIT_EXPORT_INVALID', `Line ${n} of the export is an event without a seq`, {
          details: { line: n },
        });
      }
      events.push(rec as unknown as ChainedEvent);
    } else if (rec.type === 'checkpoint') {
      const { type: _type, ...cp } = rec;
      checkpoints.push(cp);
    }
  }
  if (chain === undefined) throw new AuditError('AUDIT_EXPORT_INVALID', 'The export has no header line');
  const anchors = checkpoints.map((cp) => {
    if (!verifyCheckpointSignature(cp, options.publicKeys) || (cp as Checkpoint).chain !== chain) {
      throw new AuditError(
        'AUDIT_CHECKPOINT_INVALID',
        'A checkpoint is not signed by a trusted key or names another chain',
      );
    }
    return { seq: (cp as Checkpoint).seq, hash: (cp as Checkpoint).hash };
  });
  events.sort((a, b) => a.seq - b.seq);
  return verifyEvents(chain, [events], { anchors });
}
