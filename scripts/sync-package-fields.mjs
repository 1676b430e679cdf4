#!/usr/bin/env node
// Keeps the package.json fields that are derived from something else in sync, for every public
// package under packages/:
//
//   typesVersions  from the exports map (each subpath → its CommonJS declarations), so TypeScript with
//                  `moduleResolution: node10` (which ignores `exports`) finds every subpath;
//   files          `dist`, plus `migrations` when the folder exists; never `src` (tests reach the sources
//                  through the `@tenantry/source` condition, users get dist/ whose sourcemaps embed them);
//   repository, homepage, bugs   from the package's folder;
//   LICENSE        a copy of the root LICENSE (npm puts a package's own LICENSE in its tarball);
//   scripts.prepack `npm run build`, so a packed or published tarball never holds a stale dist.
//
// It also checks what cannot be derived: keywords, license, the shape of each export, and that what
// users share with us (zod, @opentelemetry/api) is a peer dependency with one range across packages,
// satisfied by the exact version the monorepo tests with — never a dependency — and that no package
// has vitest as a peer.
//
//   node scripts/sync-package-fields.mjs          rewrite what is out of sync (run after adding a subpath)
//   node scripts/sync-package-fields.mjs --check  report only; exit 1 when anything is out of sync (npm run lint)
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const REPOSITORY = 'https://github.com/tenantry/tenantry';
/** What users share with us: their schemas and their OpenTelemetry SDK must be the same copy as ours. */
const SHARED = ['zod', '@opentelemetry/api'];
/** Never a peer: the /testing subpaths take the runner's functions as arguments. */
const NEVER_PEER = ['vitest'];
/** Key order of a package.json we write; keys not listed keep their relative order at the end. */
const KEY_ORDER = [
  'name',
  'version',
  'private',
  'description',
  'keywords',
  'homepage',
  'bugs',
  'repository',
  'license',
  'author',
  'type',
  'sideEffects',
  'engines',
  'files',
  'main',
  'module',
  'types',
  'typesVersions',
  'exports',
  'scripts',
  'dependencies',
  'peerDependencies',
  'peerDependenciesMeta',
  'devDependencies',
];

const check = process.argv.includes('--check');
const root = process.cwd();
const rootPkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const license = readFileSync(join(root, 'LICENSE'), 'utf8');

const outOfSync = [];
const violations = [];
const sharedRanges = new Map();

for (const dir of readdirSync(join(root, 'packages')).sort()) {
  const pkgDir = join(root, 'packages', dir);
  const pkgPath = join(pkgDir, 'package.json');
  if (!existsSync(pkgPath)) continue;
  const text = readFileSync(pkgPath, 'utf8');
  const pkg = JSON.parse(text);
  if (pkg.private) continue;
  const where = `packages/${dir}/package.json`;

  // --- derived fields
  const next = { ...pkg };
  next.repository = { type: 'git', url: `git+${REPOSITORY}.git`, directory: `packages/${dir}` };
  next.homepage = `${REPOSITORY}/tree/main/packages/${dir}#readme`;
  next.bugs = { url: `${REPOSITORY}/issues` };
  const files = (pkg.files ?? []).filter((f) => !/^\.?\/?src(\/|$)/.test(f));
  for (const f of ['dist', ...(existsSync(join(pkgDir, 'migrations')) ? ['migrations'] : [])]) {
    if (!files.includes(f)) files.push(f);
  }
  next.files = files;
  const typesVersions = {};
  for (const [subpath, target] of Object.entries(pkg.exports ?? {})) {
    if (subpath === '.' || typeof target !== 'object') continue;
    const cjsTypes = target.require?.types;
    if (!cjsTypes) {
      violations.push(`${where}: exports["${subpath}"] has no require.types`);
      continue;
    }
    typesVersions[subpath.slice(2)] = [cjsTypes];
  }
  next.typesVersions = { '*': typesVersions };
  // `npm pack` and `npm publish` build first: a tarball never ships a dist older than its sources.
  if (pkg.scripts?.build) next.scripts = { ...pkg.scripts, prepack: 'npm run build' };
  const ordered = orderKeys(next);
  const wanted = `${JSON.stringify(ordered, null, 2)}\n`;
  if (wanted !== text) {
    outOfSync.push(where);
    if (!check) writeFileSync(pkgPath, wanted);
  }

  const licensePath = join(pkgDir, 'LICENSE');
  if (!existsSync(licensePath) || readFileSync(licensePath, 'utf8') !== license) {
    outOfSync.push(`packages/${dir}/LICENSE`);
    if (!check) writeFileSync(licensePath, license);
  }

  // --- rules that cannot be derived
  if (!Array.isArray(pkg.keywords) || pkg.keywords.length === 0) violations.push(`${where}: no keywords`);
  if (pkg.license !== 'MIT') violations.push(`${where}: license must be MIT (see LICENSE)`);
  if (pkg.types !== pkg.exports?.['.']?.require?.types) {
    violations.push(`${where}: "types" must be the root export's require.types (node10 reads it)`);
  }
  for (const [subpath, target] of Object.entries(pkg.exports ?? {})) {
    if (typeof target !== 'object') continue;
    for (const cond of ['import', 'require']) {
      const keys = Object.keys(target[cond] ?? {});
      if (keys[0] !== 'types' || !keys.includes('default')) {
        violations.push(`${where}: exports["${subpath}"].${cond} must be { types, default }, types first`);
      }
    }
  }
  for (const name of NEVER_PEER) {
    if (pkg.peerDependencies?.[name] || pkg.dependencies?.[name]) {
      violations.push(`${where}: ${name} must be neither a peer nor a dependency`);
    }
  }
  const imported = importedPackages(join(pkgDir, 'src'));
  for (const name of SHARED) {
    if (pkg.dependencies?.[name]) {
      violations.push(`${where}: ${name} is shared with the user's app: a peerDependency, not a dependency`);
    }
    const range = pkg.peerDependencies?.[name];
    if (imported.has(name) && !range) violations.push(`${where}: src imports ${name} but it is not a peer`);
    if (range && pkg.peerDependenciesMeta?.[name]?.optional) {
      violations.push(`${where}: ${name} is imported at run time: a required peer, not optional`);
    }
    if (!range) continue;
    if (!sharedRanges.has(name)) sharedRanges.set(name, new Map());
    sharedRanges.get(name).set(where, range);
    const tested = rootPkg.devDependencies?.[name];
    if (!tested || !satisfies(tested, range)) {
      violations.push(
        `${where}: the root devDependency ${name}@${tested} (what our tests run) is outside the peer range ${range}`,
      );
    }
  }
}

for (const [name, ranges] of sharedRanges) {
  if (new Set(ranges.values()).size > 1) {
    violations.push(
      `${name} has different peer ranges: ${[...ranges].map(([w, r]) => `${w} ${r}`).join(', ')}`,
    );
  }
}

if (outOfSync.length > 0) {
  if (check) {
    console.error(
      `Out of sync with the exports maps / LICENSE:\n  ${outOfSync.join('\n  ')}\nRun: npm run sync:packages`,
    );
  } else {
    console.log(`updated:\n  ${outOfSync.join('\n  ')}`);
  }
}
if (violations.length > 0) console.error(`Package rules broken:\n  ${violations.join('\n  ')}`);
if (outOfSync.length === 0 && violations.length === 0) console.log('package fields in sync');
process.exit(violations.length > 0 || (check && outOfSync.length > 0) ? 1 : 0);

function orderKeys(pkg) {
  const out = {};
  for (const k of KEY_ORDER) if (k in pkg) out[k] = pkg[k];
  for (const k of Object.keys(pkg)) if (!(k in out)) out[k] = pkg[k];
  return out;
}

/** Bare package names imported (statically, by `import … from` or `export … from`) under a folder. */
function importedPackages(dir) {
  const names = new Set();
  if (!existsSync(dir)) return names;
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.ts')) continue;
    const code = readFileSync(join(entry.parentPath ?? entry.path, entry.name), 'utf8');
    for (const m of code.matchAll(/^\s*(?:import|export)\s[^'"]*?\bfrom\s+'([^'./][^']*)'/gm)) {
      const spec = m[1];
      names.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]);
    }
  }
  return names;
}

/** Whether an exact version satisfies `^a.b.c` or `>=a.b.c` (the only forms our peer ranges use). */
function satisfies(version, range) {
  const v = parse(version);
  const m = /^(\^|>=)(\d+\.\d+\.\d+)$/.exec(range);
  if (!v || !m) return false;
  const low = parse(m[2]);
  const cmp = v[0] - low[0] || v[1] - low[1] || v[2] - low[2];
  if (cmp < 0) return false;
  return m[1] === '>=' || (low[0] > 0 ? v[0] === low[0] : v[1] === low[1]);
}

function parse(version) {
  const m = /^(\d+)\.(\d+)\.(\d+)$/.exec(version);
  return m ? m.slice(1).map(Number) : undefined;
}
