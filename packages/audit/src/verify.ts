import { type ChainHead, GENESIS_HASH, chainHash } from './chain.js';
import { type AuditEventBody, type ChainedEvent, type EventIndex, eventIndexOf } from './event.js';
import { checkIterable, invalid, isObject, isRecord } from './guards.js';

function indexMatches(text: string, index: EventIndex): boolean {
  let body: AuditEventBody;
  try {
    body = JSON.parse(text) as AuditEventBody;
  } catch {
    return false;
  }
  if (
    body === null ||
    typeof body !== 'object' ||
    body.id !== index.id ||
    body.actor?.id !== index.actorId ||
    body.action !== index.action ||
    body.occurredAt !== index.occurredAt ||
    !Array.isArray(body.targets)
  ) {
    return false;
  }
  // Scalars first (cheap); the targets' keys only when they all agree. Malformed targets never match.
  let expected: readonly string[];
  try {
    expected = eventIndexOf(body).targets;
  } catch {
    return false;
  }
  return (
    Array.isArray(index.targets) &&
    expected.length === index.targets.length &&
    expected.every((t, i) => t === index.targets[i])
  );
}

/** How a chain failed verification. */
export type VerifyFailureKind =
  /** The event's stored content, chain fields or hash no longer match (or, when its hash was recomputed, the next event's link proves it was rewritten). */
  | 'modified'
  /** A sequence number is absent: an event was deleted. */
  | 'missing'
  /** Events were added between existing ones (the next genuine event links further back). */
  | 'inserted'
  /** Two events share a sequence number. */
  | 'duplicate'
  /** The first event of a range does not link to the expected anchor (previous checkpoint or genesis). */
  | 'anchor-mismatch'
  /**
   * A signed checkpoint names a hash the stored event at that sequence number does not have, or two
   * signed checkpoints name different hashes for one sequence number (the chain was forked).
   */
  | 'checkpoint-mismatch'
  /** The chain ends before a signed checkpoint's sequence number: its tail was removed. */
  | 'truncated'
  /**
   * The event is intact, but the store's query columns (id, actor, action, time, targets) disagree
   * with it: a row forged or edited so that filtered queries would miss or misreport it.
   */
  | 'index-mismatch';

/** Outcome of a verification. `firstBadSeq` is the lowest sequence number that no longer verifies. */
export type VerifyResult =
  | {
      readonly ok: true;
      readonly chain: string;
      /** Events checked. */
      readonly checked: number;
      /** The last verified event, or `null` for an empty range. */
      readonly head: ChainHead | null;
    }
  | {
      readonly ok: false;
      readonly chain: string;
      readonly checked: number;
      readonly firstBadSeq: number;
      readonly kind: VerifyFailureKind;
    };

/** A chain position known to be genuine: typically a signed checkpoint. */
export interface ChainAnchor {
  readonly seq: number;
  readonly hash: string;
}

/** Options of {@link verifyEvents}. */
export interface VerifyEventsOptions {
  /** First sequence number to check. @default 1 */
  fromSeq?: number;
  /** Last sequence number that must exist and verify; by default the chain's last event. */
  toSeq?: number;
  /**
   * Positions known to be genuine (verified checkpoints). The one at `fromSeq - 1` anchors the
   * range; those inside the range must match; those beyond the last event prove truncation.
   * Without an anchor, a range starting after 1 trusts its first event's `prevHash`.
   */
  anchors?: readonly ChainAnchor[];
  /**
   * Check the store's query columns (`ChainedEvent.index`) against each event's body. Costs a JSON
   * parse per event (measured: verify runs at roughly a third of its speed without it); with `false`
   * verify proves the chain only, and a row whose columns lie makes filtered queries misreport it
   * unnoticed. @default true
   */
  checkIndex?: boolean;
}

const WINDOW = 256;

/**
 * Walk one chain's events in sequence order (in batches, as a store streams them) and report the
 * first event that does not verify. Stops at the first failure.
 * @throws ValidationError `VALIDATION_FAILED` for a non-string chain, batches that are not an iterable of arrays of events, or malformed options
 * @example const r = await verifyEvents('acme', batches); if (!r.ok) console.log(r.firstBadSeq, r.kind);
 */
export async function verifyEvents(
  chain: string,
  batches: AsyncIterable<readonly ChainedEvent[]> | Iterable<readonly ChainedEvent[]>,
  options: VerifyEventsOptions = {},
): Promise<VerifyResult> {
  const what = 'verify arguments';
  if (typeof chain !== 'string') invalid(what, 'chain', 'must be a string');
  checkIterable(batches, what, 'batches');
  if (options !== undefined && !isRecord(options)) invalid(what, 'options', 'must be an object');
  const { fromSeq: from, toSeq, anchors: anchorList } = options ?? {};
  if (from !== undefined && (!Number.isSafeInteger(from) || from < 1)) {
    invalid(what, 'options.fromSeq', 'must be an integer >= 1');
  }
  if (toSeq !== undefined && (!Number.isSafeInteger(toSeq) || toSeq < 0)) {
    invalid(what, 'options.toSeq', 'must be an integer >= 0');
  }
  if (anchorList !== undefined) {
    if (!Array.isArray(anchorList)) invalid(what, 'options.anchors', 'must be an array');
    for (const a of anchorList as ReadonlyArray<Record<string, unknown>>) {
      if (!isRecord(a) || typeof a.seq !== 'number' || typeof a.hash !== 'string') {
        invalid(what, 'options.anchors', 'must hold { seq, hash } pairs');
      }
    }
  }
  const fromSeq = options.fromSeq ?? 1;
  const checkIndex = options.checkIndex !== false;
  // Stryker disable next-line MethodExpression,ArrowFunction,ArithmeticOperator: anchors are looked up by seq; the truncation check asks whether any lies beyond
  const anchors = [...(options.anchors ?? [])].sort((a, b) => a.seq - b.seq);
  const anchorAt = new Map(anchors.map((a) => [a.seq, a.hash]));
  let expected = fromSeq;
  let prev: string | undefined = fromSeq === 1 ? GENESIS_HASH : anchorAt.get(fromSeq - 1);
  let checked = 0;
  let last: ChainHead | null = null;
  let lastEvent: ChainedEvent | undefined;
  // A ring of recent hashes (slot = seq mod WINDOW), searched only on a failure, to tell an insertion
  // (a genuine event linking further back) from a modification.
  // Stryker disable next-line ArrayDeclaration: a sparse array grows the same
  const ring: Array<string | undefined> = new Array(WINDOW);
  // Stryker disable next-line ArrayDeclaration,UnaryOperator: a slot's seq is read only when its hash matched, and unfilled slots hold no hash
  const ringSeq = new Array<number>(WINDOW).fill(-1);
  const remember = (seq: number, hash: string) => {
    const slot = ((seq % WINDOW) + WINDOW) % WINDOW;
    ring[slot] = hash;
    ringSeq[slot] = seq;
  };
  const recall = (hash: string): number | undefined => {
    let found: number | undefined;
    // Stryker disable next-line EqualityOperator: slot WINDOW is never filled
    for (let k = 0; k < WINDOW; k++)
      if (ring[k] === hash && (found === undefined || ringSeq[k]! > found)) found = ringSeq[k];
    return found;
  };
  if (prev !== undefined) remember(fromSeq - 1, prev);
  const fail = (firstBadSeq: number, kind: VerifyFailureKind): VerifyResult => ({
    ok: false,
    chain,
    checked,
    firstBadSeq,
    kind,
  });
  // Two anchors (signed checkpoints, kept or stored) for one seq with different hashes: the chain was
  // forked, i.e. rewritten and checkpointed again. Which one is genuine cannot be told from the chain,
  // so it fails; keeping either one silently would let the rewrite pass.
  for (let i = 1; i < anchors.length; i++) {
    const a = anchors[i] as (typeof anchors)[number];
    const before = anchors[i - 1] as (typeof anchors)[number];
    if (a.seq === before.seq && a.hash !== before.hash) return fail(a.seq, 'checkpoint-mismatch');
  }

  for await (const batch of batches) {
    if (!Array.isArray(batch)) invalid(what, 'batches', 'must yield arrays of chained events');
    for (const e of batch as readonly ChainedEvent[]) {
      if (!isObject(e) || typeof e.seq !== 'number') {
        invalid(what, 'batches', 'must yield arrays of chained events');
      }
      if (options.toSeq !== undefined && e.seq > options.toSeq) break;
      if (e.chain !== chain) return fail(e.seq, 'inserted');
      if (e.seq > expected) return fail(expected, 'missing');
      if (e.seq < expected) return fail(e.seq, 'duplicate');
      // A stored field of the wrong type cannot be what was hashed: the event was modified.
      const ownOk =
        typeof e.recordedAt === 'number' &&
        typeof e.prevHash === 'string' &&
        typeof e.text === 'string' &&
        typeof e.hash === 'string' &&
        chainHash(e.chain, e.seq, e.recordedAt, e.prevHash, e.text) === e.hash;
      const linkOk = prev === undefined || e.prevHash === prev;
      if (!ownOk || !linkOk) {
        const linked = recall(e.prevHash);
        if (!linkOk && linked !== undefined && linked < expected - 1) return fail(linked + 1, 'inserted');
        if (!ownOk) return fail(e.seq, 'modified');
        return e.seq === fromSeq ? fail(e.seq, 'anchor-mismatch') : fail(e.seq - 1, 'modified');
      }
      const cp = anchorAt.get(e.seq);
      if (cp !== undefined && cp !== e.hash) return fail(e.seq, 'checkpoint-mismatch');
      if (checkIndex && e.index !== undefined && !indexMatches(e.text, e.index))
        return fail(e.seq, 'index-mismatch');
      checked++;
      prev = e.hash;
      remember(e.seq, e.hash);
      lastEvent = e;
      expected++;
    }
  }
  if (lastEvent) last = { seq: lastEvent.seq, hash: lastEvent.hash, recordedAt: lastEvent.recordedAt };
  const lastSeq = last?.seq ?? fromSeq - 1;
  if (options.toSeq !== undefined && lastSeq < options.toSeq) return fail(lastSeq + 1, 'missing');
  const beyond = anchors.find(
    (a) => a.seq > lastSeq && (options.toSeq === undefined || a.seq <= options.toSeq),
  );
  if (beyond) return fail(lastSeq + 1, 'truncated');
  return { ok: true, chain, checked, head: last };
}
