import {
  BACKEND_KINDS,
  publishResolution,
  requiredBackends,
  resolveBackend,
  type Resolution,
} from './backends.js';

/**
 * Vitest global setup: resolves every backend once, publishes URLs (or skip reasons) to the workers
 * through the environment, prints one visible line per backend, and fails the run when a backend
 * named in `REQUIRE_BACKENDS` is unavailable.
 */
export default async function setup(): Promise<() => Promise<void>> {
  const required = requiredBackends();
  process.env.TENANTRY_RUN_ID ??= `${Date.now().toString(36)}${process.pid}`;
  const resolutions: Resolution[] = await Promise.all(BACKEND_KINDS.map((k) => resolveBackend(k)));
  const missing: string[] = [];
  for (const r of resolutions) {
    publishResolution(r);
    if (r.available) {
      console.log(`[testkit] ${r.kind}: using ${redact(r.url)} (${r.source})`);
    } else {
      console.log(`[testkit] ${r.kind}: SKIPPED, suites that need it will not run: ${r.reason}`);
      if (required.has(r.kind)) missing.push(`${r.kind}: ${r.reason}`);
    }
  }
  if (missing.length > 0) {
    throw new Error(`REQUIRE_BACKENDS names unavailable backends:\n  ${missing.join('\n  ')}`);
  }
  return async () => {
    for (const r of resolutions) if (r.available && r.stop) await r.stop();
  };
}

function redact(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]+@/, '//$1:***@');
}
