#!/usr/bin/env node
// The packages as a user gets them: `npm pack` every public package (after `npm run build`), check
// each tarball, then install the tarballs into throwaway consumer projects outside the repository
// (peers from the registry) and compile and run a small app in each:
//
//   current  every tarball + the peer versions our own tests use (root devDependencies), except
//            @opentelemetry/api, which is the newest our range admits (NEWEST_OTEL_API: our tests run on
//            1.9.0, the newest the Node 20 SDK accepts):
//            (a) ESM TypeScript, strict, module/moduleResolution nodenext, skipLibCheck off;
//            (b) CommonJS plain JavaScript requiring every subpath;
//            (c) TypeScript with moduleResolution node10 (reads typesVersions) and CommonJS output.
//   otel     (d) an app on @opentelemetry/api 1.9.0 with the OpenTelemetry SDK (which accepts <1.10.0),
//            at the versions of the root devDependencies:
//            the `tenantry.*` spans must reach its in-memory exporter.
//   lowest   (e) the lowest zod and @opentelemetry/api our peer ranges allow (the `^x.y.z` floor):
//            the same app as (a), type-checked and run against them.
//
// Tarball checks: LICENSE present, no src/, the migrations/ folder complete, every export target
// present, every sourcemap carrying its sources (src/ is not shipped).
// Exits non-zero on any problem. Usage: node scripts/consumer-smoke.mjs  (KEEP_CONSUMER_SMOKE=1 keeps
// the temporary folder; it is also kept, and named, when something fails).
import { spawn, spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';

/**
 * The newest @opentelemetry/api our `^1.3.0` peer range admits. Our own tests run on 1.9.0 (the root
 * devDependency, the newest the Node 20 SDK accepts), so the `current` project installs this one: the
 * packages must still compile and run beside it.
 */
const NEWEST_OTEL_API = '1.10.0';
/**
 * Compiler errors that belong to a change another branch makes (see each `why`). They are reported but
 * do not fail the run while they occur; once one no longer occurs for a package, the run fails so that
 * the entry is deleted here (this list only shrinks).
 */
const KNOWN_ISSUES = [];
/** Subpaths left out of the `lowest` project: they need optional peers it does not install. */
const LOWEST_SKIPS = /\/(testing|mongo|kysely|drizzle|postgres-js|s3)$/;

const repo = process.cwd();
const here = join(repo, 'scripts', 'consumer-smoke');
const started = Date.now();
const work = mkdtempSync(join(tmpdir(), 'tenantry-consumer-'));
const failures = [];
const knownSeen = new Set();
const rootPkg = readJson(join(repo, 'package.json'));
const dev = rootPkg.devDependencies;
/** The OpenTelemetry SDK line that accepts @opentelemetry/api >=1.3.0 <1.10.0 and runs on Node 20 (our tests' versions). */
const OTEL_APP = Object.fromEntries(
  ['@opentelemetry/api', '@opentelemetry/sdk-trace-base', '@opentelemetry/context-async-hooks'].map((n) => [
    n,
    dev[n],
  ]),
);

const ok = (msg) => console.log(`ok   ${msg}`);
const fail = (msg) => {
  failures.push(msg);
  console.error(`FAIL ${msg}`);
};
const step = (title) => console.log(`\n--- ${title} (${((Date.now() - started) / 1000).toFixed(0)} s)`);

try {
  await smoke();
} catch (error) {
  fail(`unexpected: ${error?.stack ?? error}`);
}
const seconds = ((Date.now() - started) / 1000).toFixed(0);
if (failures.length > 0) {
  console.error(`\nconsumer smoke: ${failures.length} problem(s) in ${seconds} s; files kept in ${work}`);
  process.exit(1);
}
if (!process.env.KEEP_CONSUMER_SMOKE) rmSync(work, { recursive: true, force: true });
console.log(`\nconsumer smoke: all good in ${seconds} s`);

async function smoke() {
  // --- pack and inspect
  step('pack');
  const tarballs = join(work, 'tarballs');
  mkdirSync(tarballs);
  const packages = [];
  for (const dir of readdirSync(join(repo, 'packages')).sort()) {
    const pkgDir = join(repo, 'packages', dir);
    if (!existsSync(join(pkgDir, 'package.json'))) continue;
    const pkg = readJson(join(pkgDir, 'package.json'));
    if (pkg.private) continue;
    if (!existsSync(join(pkgDir, 'dist'))) throw new Error(`${pkg.name}: no dist/; run npm run build first`);
    const [packed] = JSON.parse(
      // The dist was just built (checked above): no prepack build again, and nothing on stdout but the JSON.
      run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', tarballs], { cwd: pkgDir }),
    );
    const tgz = join(tarballs, packed.filename);
    const unpacked = join(work, 'unpacked', dir);
    mkdirSync(unpacked, { recursive: true });
    run('tar', ['xzf', tgz, '-C', unpacked]);
    const root = join(unpacked, 'package');
    const published = readJson(join(root, 'package.json'));
    checkTarball(
      pkgDir,
      root,
      published,
      packed.files.map((f) => f.path),
    );
    packages.push({ name: pkg.name, tgz, published, peers: published.peerDependencies ?? {} });
  }

  const specifiers = packages.flatMap((p) =>
    Object.entries(p.published.exports)
      .filter(([subpath, target]) => typeof target === 'object' && subpath !== './package.json')
      .map(([subpath]) => p.name + subpath.slice(1)),
  );
  const tarballDeps = Object.fromEntries(packages.map((p) => [p.name, `file:${p.tgz}`]));
  const lowest = {};
  for (const name of ['zod', '@opentelemetry/api']) {
    const ranges = new Set(packages.map((p) => p.peers[name]).filter(Boolean));
    const m = ranges.size === 1 ? /^\^(\d+\.\d+\.\d+)$/.exec([...ranges][0]) : null;
    if (!m) throw new Error(`${name}: expected one ^x.y.z peer range across packages, got ${[...ranges]}`);
    lowest[name] = m[1];
  }

  const vaultDev = readJson(join(repo, 'packages', 'vault', 'package.json')).devDependencies;
  const vaultS3Peers = {
    '@aws-sdk/client-s3': vaultDev['@aws-sdk/client-s3'],
    '@aws-sdk/lib-storage': vaultDev['@aws-sdk/lib-storage'],
  };
  // --- consumer projects, installed in parallel
  step('install consumer projects');
  // What a TypeScript user of the adapters installs too: Express 5 ships no types of its own.
  const tools = {
    typescript: dev.typescript,
    '@types/node': dev['@types/node'],
    '@types/express': dev['@types/express'],
  };
  const current = project('current', {
    ...tarballDeps,
    ...tools,
    zod: dev.zod,
    '@opentelemetry/api': NEWEST_OTEL_API,
    mongodb: dev.mongodb, // for the /mongo declarations
    // The optional peers behind the query-builder and S3 subpaths, at the versions our tests use.
    kysely: dev.kysely,
    postgres: dev.postgres,
    'drizzle-orm': dev['drizzle-orm'],
    ...vaultS3Peers,
  });
  const otel = project(
    'otel',
    { '@tenantry/core': tarballDeps['@tenantry/core'], zod: dev.zod, ...OTEL_APP },
    'module',
  );
  const low = project('lowest', { ...tarballDeps, ...tools, ...lowest });
  const installs = await Promise.allSettled(
    [current, otel, low].map(async (p) => {
      const t = Date.now();
      await runAsync('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: p.dir });
      ok(`${p.name}: npm install (${((Date.now() - t) / 1000).toFixed(0)} s)`);
    }),
  );
  for (const r of installs) if (r.status === 'rejected') fail(r.reason.message);
  if (installs.some((r) => r.status === 'rejected')) return;

  const currentApi = readJson(
    join(current.dir, 'node_modules', '@opentelemetry', 'api', 'package.json'),
  ).version;
  if (currentApi === NEWEST_OTEL_API) ok(`${current.name}: @opentelemetry/api@${currentApi} installed`);
  else fail(`${current.name}: @opentelemetry/api@${currentApi} installed instead of ${NEWEST_OTEL_API}`);

  // --- (a) ESM + nodenext, (c) node10 + CommonJS: the same app, with every subpath imported
  const subpathsTs = (list) =>
    `${list.map((s, i) => `import * as m${i} from '${s}';`).join('\n')}\n` +
    `export const modules: Record<string, object> = {\n${list.map((s, i) => `  '${s}': m${i},`).join('\n')}\n};\n`;
  const variants = [
    { id: '(a) ESM, nodenext', folder: 'esm', type: 'module', module: 'nodenext', resolution: 'nodenext' },
    { id: '(c) CommonJS, node10', folder: 'cjs', type: 'commonjs', module: 'commonjs', resolution: 'node10' },
  ];
  for (const v of variants) {
    step(`${current.name} ${v.id}`);
    compileAndRun(current, v, subpathsTs(specifiers));
  }

  // --- (b) plain CommonJS JavaScript
  step(`${current.name} (b) CommonJS JavaScript, require every subpath`);
  writeFileSync(
    join(current.dir, 'require-all.cjs'),
    `const assert = require('node:assert/strict');
for (const s of ${JSON.stringify(specifiers)}) {
  const m = require(s);
  assert.ok(Object.keys(m).length > 0, s + ' exports nothing');
}
const core = require('@tenantry/core');
core.runAsTenant({ tenantId: 'acme', actor: { id: 'u1' } }, () => assert.equal(core.requireTenant().tenantId, 'acme'));
assert.equal(require('@tenantry/core/package.json').name, '@tenantry/core');
console.log('required ${specifiers.length} subpaths');
`,
  );
  check(`${current.name} (b) node require-all.cjs`, () =>
    run('node', ['require-all.cjs'], { cwd: current.dir }),
  );

  // --- (d) OpenTelemetry app on API 1.9.0
  step(`${otel.name} (d) @opentelemetry/api ${OTEL_APP['@opentelemetry/api']} with the SDK`);
  cpSync(join(here, 'otel.mjs'), join(otel.dir, 'otel.mjs'));
  check(`${otel.name} (d) spans arrive`, () =>
    run('node', ['otel.mjs'], {
      cwd: otel.dir,
      env: { ...process.env, OTEL_API_VERSION: OTEL_APP['@opentelemetry/api'] },
    }),
  );

  // --- (e) lowest peers
  step(`${low.name} (e) zod ${lowest.zod}, @opentelemetry/api ${lowest['@opentelemetry/api']}`);
  for (const [name, version] of Object.entries(lowest)) {
    const installed = readJson(join(low.dir, 'node_modules', name, 'package.json')).version;
    if (installed === version) ok(`${low.name}: ${name}@${installed} installed`);
    else fail(`${low.name}: ${name}@${installed} installed instead of ${version}`);
  }
  compileAndRun(low, variants[0], subpathsTs(specifiers.filter((s) => !LOWEST_SKIPS.test(s))));

  // --- known issues that went away
  for (const issue of KNOWN_ISSUES) {
    for (const name of issue.packages) {
      if (!knownSeen.has(`${KNOWN_ISSUES.indexOf(issue)}:${name}`)) {
        fail(
          `known issue no longer occurs for ${name}: delete it from KNOWN_ISSUES in scripts/consumer-smoke.mjs (${issue.why})`,
        );
      }
    }
  }
}

function checkTarball(pkgDir, root, published, files) {
  const name = published.name;
  const problems = [];
  if (!files.includes('LICENSE')) problems.push('no LICENSE');
  else if (readFileSync(join(root, 'LICENSE'), 'utf8') !== readFileSync(join(repo, 'LICENSE'), 'utf8')) {
    problems.push('LICENSE differs from the root LICENSE');
  }
  const src = files.filter((f) => f.startsWith('src/'));
  if (src.length > 0) problems.push(`ships src/ (${src.length} files)`);
  if (existsSync(join(pkgDir, 'migrations'))) {
    for (const f of listFiles(join(pkgDir, 'migrations'))) {
      const rel = relative(pkgDir, f).split('\\').join('/');
      if (!files.includes(rel)) problems.push(`misses ${rel}`);
    }
  }
  for (const [subpath, target] of Object.entries(published.exports)) {
    const targets =
      typeof target === 'string'
        ? [target]
        : Object.entries(target)
            .filter(([condition]) => condition !== '@tenantry/source') // ours, for tests: src/ is not shipped
            .flatMap(([, t]) => (typeof t === 'string' ? [t] : Object.values(t)));
    for (const t of targets) {
      if (!files.includes(t.slice(2))) problems.push(`exports["${subpath}"] → ${t} is not in the tarball`);
    }
  }
  for (const [sub, [target]] of Object.entries(published.typesVersions?.['*'] ?? {})) {
    if (!files.includes(target.slice(2)))
      problems.push(`typesVersions ${sub} → ${target} is not in the tarball`);
  }
  // src/ is not shipped, so every source file a sourcemap names must be embedded in it.
  for (const map of files.filter((f) => f.endsWith('.map'))) {
    const m = readJson(join(root, map));
    const missing = m.sources.filter(
      (s, i) => /(^|\/)src\//.test(s) && typeof m.sourcesContent?.[i] !== 'string',
    );
    if (missing.length > 0) problems.push(`${map} does not embed ${missing.join(', ')}`);
  }
  if (problems.length > 0) for (const p of problems) fail(`${name} tarball: ${p}`);
  else ok(`${name} tarball: ${files.length} files, LICENSE, no src/, sourcemaps embed their sources`);
}

function project(name, dependencies, type) {
  const dir = join(work, name);
  mkdirSync(dir);
  writeJson(join(dir, 'package.json'), {
    name: `consumer-${name}`,
    private: true,
    ...(type && { type }),
    dependencies,
  });
  return { name, dir };
}

function compileAndRun(p, v, subpaths) {
  const src = join(p.dir, v.folder);
  mkdirSync(src, { recursive: true });
  writeJson(join(src, 'package.json'), { type: v.type });
  for (const f of ['app.ts', 'entry.ts']) cpSync(join(here, f), join(src, f));
  writeFileSync(join(src, 'subpaths.ts'), subpaths);
  const tsconfig = `tsconfig.${v.folder}.json`;
  writeJson(join(p.dir, tsconfig), {
    compilerOptions: {
      strict: true,
      module: v.module,
      moduleResolution: v.resolution,
      target: 'es2022',
      lib: ['es2023'],
      types: ['node'],
      esModuleInterop: true,
      skipLibCheck: false,
      rootDir: v.folder,
      outDir: `${v.folder}/out`,
    },
    files: [`${v.folder}/entry.ts`],
  });
  const tsc = spawnSync(process.execPath, [join(p.dir, 'node_modules/typescript/bin/tsc'), '-p', tsconfig], {
    cwd: p.dir,
    encoding: 'utf8',
  });
  const diagnostics = parseDiagnostics(`${tsc.stdout}${tsc.stderr}`);
  const unexpected = [];
  for (const d of diagnostics) {
    const issue = KNOWN_ISSUES.findIndex((k) => k.match(d));
    const pkg = /node_modules\/(@tenantry\/[^/]+)\//.exec(d.file)?.[1];
    if (issue >= 0 && KNOWN_ISSUES[issue].packages.includes(pkg)) {
      knownSeen.add(`${issue}:${pkg}`);
      console.log(`known ${d.file}:${d.line} ${d.text}`);
    } else unexpected.push(d);
  }
  if (tsc.status !== 0 && diagnostics.length === 0) {
    fail(`${p.name} ${v.id}: tsc failed:\n${tsc.stdout}${tsc.stderr}`);
    return;
  }
  if (unexpected.length > 0) {
    fail(`${p.name} ${v.id}: tsc:\n${unexpected.map((d) => `  ${d.file}:${d.line} ${d.text}`).join('\n')}`);
    return;
  }
  ok(`${p.name} ${v.id}: compiles (strict, skipLibCheck off)`);
  check(`${p.name} ${v.id}: runs`, () => run('node', [`${v.folder}/out/entry.js`], { cwd: p.dir }));
}

function parseDiagnostics(output) {
  const out = [];
  for (const line of output.split('\n')) {
    const m = /^(.+?)\((\d+),\d+\): error (TS\d+: .*)$/.exec(line.trim());
    if (m) out.push({ file: m[1], line: Number(m[2]), text: m[3] });
  }
  return out;
}

function check(title, fn) {
  try {
    const out = fn().trim();
    ok(`${title}${out ? `: ${out.split('\n').pop()}` : ''}`);
  } catch (error) {
    fail(`${title}: ${error.message}`);
  }
}

function run(cmd, args, options = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, ...options });
  if (r.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} exited ${r.status ?? r.signal}\n${r.stdout}${r.stderr}`);
  }
  return r.stdout;
}

function runAsync(cmd, args, options) {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => {
      output += d;
    });
    child.stderr.on('data', (d) => {
      output += d;
    });
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0
        ? resolvePromise(output)
        : reject(new Error(`${cmd} ${args.join(' ')} in ${options.cwd} exited ${code}\n${output}`)),
    );
  });
}

function listFiles(dir) {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => resolve(e.parentPath ?? e.path, e.name));
}

function readJson(path) {
  return JSON.parse(readFileSync(path, 'utf8'));
}

function writeJson(path, value) {
  writeFileSync(path, `${JSON.stringify(value, null, 2)}\n`);
}
