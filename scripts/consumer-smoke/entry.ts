// Entry point of the ESM and CommonJS builds of the consumer smoke test (see app.ts).
import assert from 'node:assert/strict';
import { main } from './app.js';
import { modules } from './subpaths.js';

main().then(
  (done) => {
    for (const [specifier, namespace] of Object.entries(modules)) {
      assert.ok(Object.keys(namespace).length > 0, `${specifier} exports nothing`);
    }
    console.log(`ok: ${done.join(', ')}; ${Object.keys(modules).length} subpaths loaded`);
  },
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
