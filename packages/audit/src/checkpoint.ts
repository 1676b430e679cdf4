import { ed25519 } from '@noble/curves/ed25519.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { canonicalJson } from '@tenantry/core';
import { z } from 'zod';
import type { ChainHead } from './chain.js';
import { AuditError } from './errors.js';

const HEX = /^(?:[0-9a-f]{2})+$/i;
/** Bytes of a hex key, or `VALIDATION_FAILED` (the key itself is never echoed). */
function keyBytes(hex: string, bytes: number, what: string): Uint8Array {
  if (typeof hex !== 'string' || hex.length !== bytes * 2 || !HEX.test(hex)) {
    throw new AuditError('VALIDATION_FAILED', `The ${what} must be ${bytes * 2} hex characters`, {
      details: { what },
    });
  }
  return hexToBytes(hex);
}

/** A signed statement "chain `chain` had head `hash` at `seq`", verifiable with the public key alone. */
export const CheckpointSchema = z.object({
  v: z.literal(1),
  chain: z.string().min(1).max(129),
  seq: z.number().int().nonnegative(),
  hash: z.string().regex(/^[0-9a-f]{64}$/),
  /** The head event's store time, epoch microseconds. */
  recordedAt: z.number().int().nonnegative(),
  /** When it was signed, epoch milliseconds. */
  signedAt: z.number().int().nonnegative(),
  /** First 16 hex characters of SHA-256 of the public key. */
  keyId: z.string().regex(/^[0-9a-f]{16}$/),
  /** Ed25519 signature (hex) over the canonical JSON of every other field. */
  signature: z.string().regex(/^[0-9a-f]{128}$/),
});
export type Checkpoint = z.output<typeof CheckpointSchema>;

/** An Ed25519 key pair for signing checkpoints (hex). Keep `secretKey` in a secret store. */
export interface CheckpointKeyPair {
  readonly secretKey: string;
  readonly publicKey: string;
}

/**
 * Generate an Ed25519 key pair for checkpoints.
 * @example const keys = generateCheckpointKeys(); // store keys.secretKey in your secret manager
 */
export function generateCheckpointKeys(): CheckpointKeyPair {
  const { secretKey, publicKey } = ed25519.keygen();
  return { secretKey: bytesToHex(secretKey), publicKey: bytesToHex(publicKey) };
}

/**
 * The key id (16 hex) of a public key (hex).
 * @throws ValidationError `VALIDATION_FAILED` when the key is not 64 hex characters
 */
export function checkpointKeyId(publicKeyHex: string): string {
  return bytesToHex(sha256(keyBytes(publicKeyHex, 32, 'checkpoint public key'))).slice(0, 16);
}

/**
 * The public key (hex) of a checkpoint signing key (hex), e.g. to hand to verifiers.
 * @throws ValidationError `VALIDATION_FAILED` when the secret key is not 64 hex characters
 */
export function publicKeyOf(secretKeyHex: string): string {
  return bytesToHex(ed25519.getPublicKey(keyBytes(secretKeyHex, 32, 'checkpoint signing key')));
}

const signedBytes = (cp: Omit<Checkpoint, 'signature'>): Uint8Array =>
  new TextEncoder().encode(`tenantry-audit-checkpoint-v1\n${canonicalJson(cp)}`);

/**
 * Sign a chain head.
 * @throws ValidationError `VALIDATION_FAILED` when the secret key is not 64 hex characters
 * @example const cp = signCheckpoint('acme', head, keys.secretKey, Date.now());
 */
export function signCheckpoint(
  chain: string,
  head: ChainHead,
  secretKeyHex: string,
  signedAtMs: number,
): Checkpoint {
  const secret = keyBytes(secretKeyHex, 32, 'checkpoint signing key');
  const unsigned = {
    v: 1 as const,
    chain,
    seq: head.seq,
    hash: head.hash,
    recordedAt: head.recordedAt,
    signedAt: signedAtMs,
    keyId: checkpointKeyId(bytesToHex(ed25519.getPublicKey(secret))),
  };
  return { ...unsigned, signature: bytesToHex(ed25519.sign(signedBytes(unsigned), secret)) };
}

/**
 * Whether a checkpoint is well-formed and signed by one of `publicKeysHex`. Needs nothing but the
 * checkpoint and the public key(s), so an outsider can run it.
 * @example if (!verifyCheckpointSignature(cp, [publicKey])) throw new Error('forged checkpoint');
 */
export function verifyCheckpointSignature(checkpoint: unknown, publicKeysHex: readonly string[]): boolean {
  const parsed = CheckpointSchema.safeParse(checkpoint);
  if (!parsed.success) return false;
  const { signature, ...unsigned } = parsed.data;
  const key = publicKeysHex.find(
    (k) => HEX.test(k) && k.length === 64 && checkpointKeyId(k) === unsigned.keyId,
  );
  if (!key) return false;
  try {
    return ed25519.verify(hexToBytes(signature), signedBytes(unsigned), hexToBytes(key));
  } catch {
    return false;
  }
}
