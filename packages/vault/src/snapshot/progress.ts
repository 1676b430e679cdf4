/** A progress report of a long run (V6): records and bytes so far. */
export interface VaultProgress {
  /** What runs: taking a snapshot, verifying one, restoring, or writing a GDPR export. */
  readonly operation: 'snapshot' | 'verify' | 'restore' | 'export';
  /** The step inside a restore: `verify`, `safety-snapshot`, `clean`, `import`, `rollback`. */
  readonly step?: string;
  /** The module being processed, if any. */
  readonly module?: string;
  /** Records processed so far in this operation (all modules). */
  readonly records: number;
  /** Bytes of the snapshot object written or read so far (compressed and encrypted). */
  readonly bytes: number;
}

/** Receives progress reports; called at most about every 64 KiB of snapshot bytes, and at each module's end. */
export type ProgressListener = (progress: VaultProgress) => void;

/** Calls the listener, never letting its failure break the run. */
export function report(listener: ProgressListener | undefined, progress: VaultProgress): void {
  if (!listener) return;
  try {
    listener(progress);
  } catch {
    // A progress listener is display only.
  }
}
