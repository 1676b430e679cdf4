// One test per TypeScript block of the READMEs and docs (see scripts/readme-code.ts for the markers).
// A block listed in scripts/readme-code.known-failures.json must still fail (fix it, then delete its
// entry); any other block must pass. README_CODE_UPDATE=1 rewrites the list from this run's results.
import { spawnSync } from 'node:child_process';
import { readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { backendStatus, skipLabel, useTestDatabase } from '@tenantry/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blockPath, type CodeBlock, collectBlocks, typeCheck } from './readme-code.js';

interface KnownFailure {
  block: string;
  sha: string;
  errors: string[];
}

const root = resolve(import.meta.dirname, '..');
const dir = join(root, '.readme-code', `run-${process.pid}`);
const knownPath = join(root, 'scripts', 'readme-code.known-failures.json');
const known = JSON.parse(readFileSync(knownPath, 'utf8')) as { about: string; blocks: KnownFailure[] };
const update = process.env.README_CODE_UPDATE === '1';
const blocks = collectBlocks(root);
const keyOf = (b: { block: string; sha: string }) => `${b.block.replace(/:\d+$/, '')}#${b.sha}`;
const knownByKey = new Map(known.blocks.map((k) => [keyOf(k), k]));
const results = new Map<string, string[]>();
const needs = (b: CodeBlock) =>
  (['postgres', 'redis', 'mongo'] as const).filter((kind) =>
    new RegExp(`\\b${{ postgres: 'PG_URL', redis: 'REDIS_URL', mongo: 'MONGO_URL' }[kind]}\\b`).test(b.code),
  );
const runBlocks = blocks.filter((b) => b.mode === 'run');
// A fresh database for this file when a `ts run` block uses PG_URL (and PostgreSQL is there).
const db =
  backendStatus('postgres').available && runBlocks.some((b) => needs(b).includes('postgres'))
    ? useTestDatabase()
    : undefined;
const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm')).href;

let errors = new Map<string, string[]>();
beforeAll(() => {
  errors = typeCheck(root, dir, blocks);
}, 240_000);

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  try {
    rmdirSync(join(root, '.readme-code')); // only when no other run is using it
  } catch {}
  if (!update) return;
  const failing = blocks
    .filter((b) => (results.get(b.id) ?? []).length > 0)
    .map((b) => ({ block: b.id, sha: b.sha, errors: results.get(b.id)! }));
  writeFileSync(knownPath, `${JSON.stringify({ about: known.about, blocks: failing }, null, 2)}\n`);
});

/** Type errors, then (for `ts run`) the run's failure; empty when the block works. */
function problemsOf(b: CodeBlock): string[] {
  const typeErrors = errors.get(b.id) ?? [];
  if (typeErrors.length > 0 || b.mode !== 'run') return typeErrors;
  const env: NodeJS.ProcessEnv = { ...process.env };
  const pg = backendStatus('postgres');
  if (db && pg.available) env.PG_URL = db.url();
  const redis = backendStatus('redis');
  if (redis.available) env.REDIS_URL = redis.url;
  const r = spawnSync(
    process.execPath,
    ['--conditions=@tenantry/source', '--import', tsx, blockPath(dir, b)],
    {
      cwd: root,
      env,
      encoding: 'utf8',
      timeout: 60_000,
    },
  );
  if (r.status === 0) return [];
  const output = `${r.stdout}${r.stderr}`.trim().split('\n').slice(-15).join('\n');
  return [`${b.id} run exited ${r.status ?? r.signal}:\n${output}`];
}

describe('README code', () => {
  it('finds the blocks', () => {
    expect(blocks.length).toBeGreaterThan(0);
  });

  it('lists no known failure that no longer exists', () => {
    const present = new Set(blocks.map((b) => keyOf({ block: b.id, sha: b.sha })));
    const stale = known.blocks.filter((k) => !present.has(keyOf(k)));
    expect(
      stale.map((k) => `${k.block} (${k.sha})`),
      'these entries of scripts/readme-code.known-failures.json match no block any more (the block was edited or removed): delete them',
    ).toEqual([]);
  });

  for (const b of blocks) {
    if (b.mode === 'fragment') {
      it.skip(`${b.id} [skipped: fenced as 'ts fragment', an excerpt that is not type-checked]`, () => {});
      continue;
    }
    const entry = knownByKey.get(keyOf({ block: b.id, sha: b.sha }));
    const missing =
      b.mode === 'run'
        ? needs(b)
            .map((k) => skipLabel(k))
            .join('')
        : '';
    const title = `${b.id}${b.mode === 'run' ? ' [run]' : ''}${entry ? ' [known failing]' : ''}${missing}`;
    it.skipIf(missing !== '')(
      title,
      () => {
        const problems = problemsOf(b);
        results.set(b.id, problems);
        if (update) return;
        if (entry) {
          expect(
            problems,
            `${b.id} works now: delete its entry (sha ${b.sha}) from scripts/readme-code.known-failures.json`,
          ).not.toEqual([]);
        } else {
          expect(problems, `${b.id} (sha ${b.sha}) fails`).toEqual([]);
        }
      },
      90_000,
    );
  }
});
