/** Helpers for scripts run by `runWorkers`. */

/** Send one JSON message to the parent test (one line on stdout). */
export function reportToParent(message: unknown): void {
  process.stdout.write(`${JSON.stringify(message)}\n`);
}

/** This worker's index and generation (respawns after a chaos kill increase the generation). */
export function workerIdentity(): { index: number; generation: number } {
  return {
    index: Number(process.env.TENANTRY_WORKER_INDEX ?? 0),
    generation: Number(process.env.TENANTRY_WORKER_GENERATION ?? 0),
  };
}
