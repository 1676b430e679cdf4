// README code is tested: every ```ts / ```typescript block of the root README.md, packages/*/README.md,
// examples/*/README.md and docs/*.md is written to a file of its own and type-checked as a user's
// module would be (strict; module and moduleResolution nodenext; `@tenantry/*` resolved to the sources
// through the `@tenantry/source` condition, so no build is needed). Fence markers:
//
//   ```ts            a complete module: must type-check;
//   ```ts run        also executed (tsx), with PG_URL / REDIS_URL / MONGO_URL set; must exit 0;
//   ```ts fragment   an excerpt that relies on names it does not define: skipped.
//
// Used by scripts/readme-code.test.ts (one test per block); blocks that fail today are listed in
// scripts/readme-code.known-failures.json.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';

export interface CodeBlock {
  /** Markdown file, relative to the repository root, with `/`. */
  file: string;
  /** 1-based line of the opening fence. */
  line: number;
  /** `file:line`, the test's title. */
  id: string;
  mode: 'check' | 'run' | 'fragment';
  code: string;
  /** First 12 hex digits of the code's SHA-256: how the known-failures list names a block. */
  sha: string;
}

const TS_LANGS = new Set(['ts', 'typescript']);

/** The Markdown files whose code blocks are tested, sorted. */
export function markdownFiles(root: string): string[] {
  const files: string[] = [];
  if (existsSync(join(root, 'README.md'))) files.push('README.md');
  for (const parent of ['packages', 'examples']) {
    if (!existsSync(join(root, parent))) continue;
    for (const dir of readdirSync(join(root, parent)).sort()) {
      if (existsSync(join(root, parent, dir, 'README.md'))) files.push(`${parent}/${dir}/README.md`);
    }
  }
  if (existsSync(join(root, 'docs'))) {
    for (const f of readdirSync(join(root, 'docs')).sort()) if (f.endsWith('.md')) files.push(`docs/${f}`);
  }
  return files;
}

/** The TypeScript blocks of one Markdown text (fences of ``` or ~~~, possibly indented). */
export function extractBlocks(file: string, markdown: string): CodeBlock[] {
  const blocks: CodeBlock[] = [];
  const lines = markdown.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const open = /^( {0,3})(`{3,}|~{3,})\s*([^`]*)$/.exec(lines[i] ?? '');
    if (!open) continue;
    const [, indent = '', fence = '', info = ''] = open;
    const words = info.trim().split(/\s+/).filter(Boolean);
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length; j++) {
      const close = /^ {0,3}(`{3,}|~{3,})\s*$/.exec(lines[j] ?? '');
      if (close?.[1] && close[1][0] === fence[0] && close[1].length >= fence.length) break;
      const l = lines[j] ?? '';
      body.push(l.startsWith(indent) ? l.slice(indent.length) : l.trimStart());
    }
    if (TS_LANGS.has((words[0] ?? '').toLowerCase())) {
      const flags = new Set(words.slice(1).map((w) => w.toLowerCase()));
      const code = `${body.join('\n').replace(/\s+$/, '')}\n`;
      blocks.push({
        file,
        line: i + 1,
        id: `${file}:${i + 1}`,
        mode: flags.has('fragment') ? 'fragment' : flags.has('run') ? 'run' : 'check',
        code,
        sha: createHash('sha256').update(code).digest('hex').slice(0, 12),
      });
    }
    i = j;
  }
  return blocks;
}

/** Every block of every tested Markdown file. */
export function collectBlocks(root: string): CodeBlock[] {
  return markdownFiles(root).flatMap((f) => extractBlocks(f, readFileSync(join(root, f), 'utf8')));
}

/** The file a block is written to, inside `dir`. */
export function blockPath(dir: string, block: CodeBlock): string {
  return join(dir, `${block.file.replace(/[^A-Za-z0-9.-]+/g, '_')}_L${block.line}.ts`);
}

/** Compiler options: what a strict user on Node's own module system has, plus our source condition. */
export const COMPILER_OPTIONS: ts.CompilerOptions = {
  strict: true,
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  moduleDetection: ts.ModuleDetectionKind.Force,
  target: ts.ScriptTarget.ES2022,
  lib: ['lib.es2023.d.ts'],
  types: ['node'],
  customConditions: ['@tenantry/source'],
  esModuleInterop: true,
  skipLibCheck: true,
  noEmit: true,
};

/**
 * Write the blocks (fragments excepted) into `dir` and type-check them in one program. Returns, per
 * block id, the errors located in that block, as `README.md:line TSxxxx: message` (lines of the
 * Markdown file).
 */
export function typeCheck(root: string, dir: string, blocks: CodeBlock[]): Map<string, string[]> {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
  const byPath = new Map<string, CodeBlock>();
  for (const b of blocks) {
    if (b.mode === 'fragment') continue;
    const path = blockPath(dir, b);
    writeFileSync(path, b.code);
    byPath.set(ts.sys.resolvePath(path), b);
  }
  const host = ts.createCompilerHost(COMPILER_OPTIONS);
  host.getCurrentDirectory = () => root;
  const program = ts.createProgram({ rootNames: [...byPath.keys()], options: COMPILER_OPTIONS, host });
  const errors = new Map<string, string[]>([...byPath.values()].map((b) => [b.id, []]));
  const global: string[] = [];
  for (const d of ts.getPreEmitDiagnostics(program)) {
    const text = `TS${d.code}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
    const block = d.file ? byPath.get(ts.sys.resolvePath(d.file.fileName)) : undefined;
    if (block && d.start !== undefined) {
      const { line } = d.file!.getLineAndCharacterOfPosition(d.start);
      errors.get(block.id)!.push(`${block.file}:${block.line + 1 + line} ${text}`);
    } else if (!d.file) {
      global.push(text);
    }
    // Diagnostics inside the packages' own sources are the typecheck's business, not the README's.
  }
  if (global.length > 0) throw new Error(`README code: compiler setup failed:\n${global.join('\n')}`);
  return errors;
}

/** Relative path for messages. */
export const rel = (root: string, path: string): string => relative(root, path).split('\\').join('/');
