// Compile app/main.ts with swc, keeping decorator metadata (what `nest build` does; tsup and esbuild
// drop it, and Nest's constructor injection by type needs it). Output: dist/main.mjs.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { transformSync } from '@swc/core';

const source = readFileSync(new URL('./app/main.ts', import.meta.url), 'utf8');
const { code } = transformSync(source, {
  filename: 'main.ts',
  jsc: {
    parser: { syntax: 'typescript', decorators: true },
    transform: { legacyDecorator: true, decoratorMetadata: true },
    target: 'es2022',
  },
  module: { type: 'es6' },
});
mkdirSync(new URL('./dist/', import.meta.url), { recursive: true });
writeFileSync(new URL('./dist/main.mjs', import.meta.url), code);
