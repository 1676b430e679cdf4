// Shared tsup configuration: every package builds one entry per subpath of its `exports` map (the
// `@tenantry/source` file), to ESM + CJS + .d.ts, so the entry list cannot drift from the exports.
import { readFileSync } from 'node:fs';
import type { Options } from 'tsup';

interface ExportTarget {
  '@tenantry/source'?: string;
}

export function packageBuildConfig(): Options {
  const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as {
    exports: Record<string, string | ExportTarget>;
  };
  const entry: Record<string, string> = {};
  for (const [subpath, target] of Object.entries(pkg.exports)) {
    if (typeof target === 'string' || !target['@tenantry/source']) continue;
    entry[subpath === '.' ? 'index' : subpath.slice(2)] = target['@tenantry/source'];
  }
  return {
    entry,
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    // src/ is not in the tarballs: the sourcemaps carry the sources (checked by scripts/consumer-smoke.mjs).
    esbuildOptions(options) {
      options.sourcesContent = true;
    },
    clean: true,
    target: 'node20',
    // Also for CJS, so a class shared by two subpaths (an error class, say) is one class, and instanceof holds.
    splitting: true,
    // Drivers and the test runner are optional peers: never bundle them.
    external: ['vitest', 'pg', 'ioredis', 'mongodb'],
  };
}
