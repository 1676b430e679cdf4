// The `tenantry-vault` command run as a user runs it: the real bin file in a child process, a config
// module (test/fixtures/cli.config.ts), PostgreSQL with RLS and an application role, snapshots on disk.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runMigrations, tenantTableSql } from '@tenantry/core/postgres';
import { cryptoFieldsMigrations } from '@tenantry/crypto-fields/postgres';
import { skipLabel, sourceNodeFlags, uniqueId, useTestDatabase } from '@tenantry/testkit';
import pg from 'pg';
import { build } from 'tsup';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { vaultMigrations } from '../src/postgres.js';

const here = dirname(fileURLToPath(import.meta.url));
const bin = join(here, '..', 'bin', 'tenantry-vault.mjs');
const config = join(here, 'fixtures', 'cli.config.ts');
const db = useTestDatabase();

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

let env: Record<string, string> = {};
function cli(args: string[], extraEnv: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...sourceNodeFlags(), bin, ...args], {
      env: { ...process.env, ...env, ...extraEnv },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The rows of every tenant table, per tenant, read as the owner (RLS hides nothing from it). */
async function checksums(pool: pg.Pool): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const table of ['users', 'tasks', 'notes']) {
    const res = await pool.query<{ tenant_id: string; digest: string }>(
      `SELECT tenant_id, md5(string_agg(t::text, '|' ORDER BY t::text)) AS digest FROM ${table} t GROUP BY tenant_id`,
    );
    for (const r of res.rows) out[`${table}:${r.tenant_id}`] = r.digest;
  }
  return out;
}

describe(`tenantry-vault CLI end to end${skipLabel('postgres')}`, () => {
  let owner: pg.Pool;
  let storage: string;
  let exportDir: string;
  let role: string;
  let snapshotId = '';

  beforeAll(async () => {
    owner = new pg.Pool({ connectionString: db.url(), max: 2 });
    storage = mkdtempSync(join(tmpdir(), 'vault-cli-store-'));
    exportDir = mkdtempSync(join(tmpdir(), 'vault-cli-export-'));
    role = uniqueId('vault_cli_app');
    await runMigrations(owner, [...cryptoFieldsMigrations, ...vaultMigrations]);
    await owner.query(`
      CREATE TABLE users (tenant_id text NOT NULL, id int NOT NULL, name text, PRIMARY KEY (tenant_id, id));
      CREATE TABLE tasks (tenant_id text NOT NULL, id int NOT NULL, user_id int, title text, done boolean,
                          PRIMARY KEY (tenant_id, id));
      CREATE TABLE notes (tenant_id text NOT NULL, id int NOT NULL, body text);
    `);
    for (const table of ['users', 'tasks', 'notes']) {
      for (const sql of tenantTableSql({ table })) await owner.query(sql);
    }
    await owner.query(`CREATE ROLE ${role} LOGIN NOSUPERUSER NOBYPASSRLS`);
    await owner.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON users, tasks, notes TO ${role}`);
    for (const t of ['a', 'b', 'c']) {
      await owner.query(
        `INSERT INTO users SELECT $1, g, $1 || '-user-' || g FROM generate_series(1, 300) g;
         `.replace(/\$1/g, `'${t}'`),
      );
      await owner.query(
        `INSERT INTO tasks SELECT '${t}', g, 1 + g % 300, E'task\\t' || g || E' with\\nnewline and \\\\ backslash', g % 2 = 0 FROM generate_series(1, 2000) g`,
      );
    }
    const appUrl = new URL(db.url());
    appUrl.username = role;
    env = {
      VAULT_CLI_OWNER_URL: db.url(),
      VAULT_CLI_APP_URL: appUrl.toString(),
      VAULT_CLI_STORAGE: storage,
      VAULT_CLI_KEY: randomBytes(32).toString('base64'),
    };
  }, 120_000);

  afterAll(async () => {
    await owner?.query(`DROP OWNED BY ${role}`).catch(() => undefined);
    await owner?.query(`DROP ROLE IF EXISTS ${role}`).catch(() => undefined);
    await owner?.end();
    for (const d of [storage, exportDir]) if (d) rmSync(d, { recursive: true, force: true });
  });

  it('snapshot: exit 0, progress lines on stderr (no terminal), a summary on stdout', async () => {
    const r = await cli(['snapshot', '--config', config, '--tenant', 'a']);
    expect(r.stderr).not.toMatch(/tenantry-vault: [A-Z_]+:/);
    expect(r.code).toBe(0);
    const m =
      /^snapshot (\S+) of tenant a: 2 module\(s\), 2,300 records, [\d.]+ [KM]?B in [\d.]+ s \([\d,]+ records\/s, [\d.]+ [KM]?B\/s\)$/m.exec(
        r.stdout,
      );
    expect(m).not.toBeNull();
    snapshotId = m?.[1] ?? '';
    expect(r.stdout).toMatch(/^ {2}users +v1 +300 records$/m);
    expect(r.stdout).toMatch(/^ {2}tasks +v1 +2,000 records$/m);
    // Plain progress lines (stderr is a pipe): records and rates per module (bytes once written,
    // never a `0 B` while records were read), and a last line with the object's bytes.
    expect(r.stderr).toMatch(
      /^snapshot a \[.*(users|tasks).*\]: [\d,]+ records, ([\d.]+ [KM]?B, [\d.]+ [KM]?B\/s, )?[\d,]+ records\/s$/m,
    );
    expect(r.stderr).not.toMatch(/ 0 B,/);
    expect(r.stderr.trim().split('\n').at(-1)).toMatch(
      /^snapshot a: 2,300 records, [\d.]+ [KM]?B, [\d.]+ [KM]?B\/s, [\d,]+ records\/s$/,
    );
    expect(r.stderr).not.toContain('\r');
    // The object is on disk under the tenant's namespace (T4).
    expect(readdirSync(join(storage, 'tenants', 'a', 'snapshots')).sort()).toEqual([
      `${snapshotId}.data`,
      `${snapshotId}.manifest.json`,
    ]);
  }, 60_000);

  it('list: the snapshot, complete, as a table and as JSON', async () => {
    const text = await cli(['list', '--config', config, '--tenant', 'a']);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(
      new RegExp(`^${snapshotId} +snapshot +complete +[\\d.]+ [KM]?B +\\S+ by ops-test$`, 'm'),
    );
    const json = await cli(['list', '--config', config, '--tenant', 'a', '--json']);
    const rows = JSON.parse(json.stdout) as Array<{ id: string; status: string; tenantId: string }>;
    expect(rows.map((r) => [r.id, r.status, r.tenantId])).toEqual([[snapshotId, 'complete', 'a']]);
    const other = await cli(['list', '--config', config, '--tenant', 'b']);
    expect(other.stdout.trim()).toBe('no snapshots for tenant b');
  }, 60_000);

  it('verify: exit 0 with the checksum', async () => {
    const r = await cli(['verify', '--config', config, '--tenant', 'a', '--snapshot', snapshotId]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      new RegExp(
        `^snapshot ${snapshotId} of tenant a verified: 2 module\\(s\\), 2,300 records, .*sha256 [0-9a-f]{64}$`,
        'm',
      ),
    );
  }, 60_000);

  it('restore: asks for --yes, then puts tenant a back exactly, leaving b and c byte-identical', async () => {
    const before = await checksums(owner);
    await owner.query(`DELETE FROM tasks WHERE tenant_id = 'a' AND id > 1000`);
    await owner.query(`UPDATE users SET name = 'changed' WHERE tenant_id = 'a'`);
    await owner.query(`INSERT INTO tasks VALUES ('a', 9999, 1, 'new', false)`);
    await owner.query(`UPDATE tasks SET done = NOT done WHERE tenant_id = 'b' AND id = 1`);
    const othersBefore = await checksums(owner);

    const refused = await cli(['restore', '--config', config, '--tenant', 'a', '--snapshot', snapshotId]);
    expect(refused.code).toBe(2);
    expect(refused.stderr.trim()).toBe(
      "tenantry-vault: VAULT_CONFIRMATION_REQUIRED: restore replaces tenant a's data: add --yes to confirm",
    );
    expect((await checksums(owner))['users:a']).not.toBe(before['users:a']);

    const r = await cli(['restore', '--config', config, '--tenant', 'a', '--snapshot', snapshotId, '--yes']);
    expect(r.stderr).not.toMatch(/tenantry-vault: [A-Z_]+:/);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      new RegExp(`^restored tenant a from snapshot ${snapshotId} \\(transaction\\): 2,300 records`, 'm'),
    );
    const after = await checksums(owner);
    expect(after['users:a']).toBe(before['users:a']);
    expect(after['tasks:a']).toBe(before['tasks:a']);
    for (const key of ['users:b', 'tasks:b', 'users:c', 'tasks:c'])
      expect(after[key]).toBe(othersBefore[key]);
  }, 60_000);

  it('export: a GDPR archive of JSON lines per module plus the manifest', async () => {
    const r = await cli(['export', '--config', config, '--tenant', 'a', '--out', exportDir]);
    expect(r.code).toBe(0);
    const m = /^GDPR export (\S+) of tenant a written to (.+)$/m.exec(r.stdout);
    expect(m).not.toBeNull();
    const folder = m?.[2] ?? '';
    expect(existsSync(join(folder, 'manifest.json'))).toBe(true);
    const files = readdirSync(folder).filter((f) => f.endsWith('.jsonl'));
    expect(files.length).toBe(2);
    const lines = files.flatMap((f) => readFileSync(join(folder, f), 'utf8').trim().split('\n'));
    expect(lines).toHaveLength(2300);
    expect(lines.every((l) => typeof JSON.parse(l) === 'object')).toBe(true);
  }, 60_000);

  it('coverage: the uncovered notes table fails the check (exit 1); once covered, exit 0', async () => {
    await owner.query(`INSERT INTO notes VALUES ('c', 1, 'kept nowhere')`);
    const gap = await cli(['coverage', '--config', config]);
    expect(gap.code).toBe(1);
    expect(gap.stdout).toMatch(/^GAP +postgres +public\.notes$/m);
    expect(gap.stdout).toMatch(/^covered +postgres +public\.tasks by tasks$/m);
    expect(gap.stderr.trim().split('\n')).toEqual([
      'tenantry-vault: VAULT_COVERAGE_GAPS: 1 tenant table(s) or collection(s) hold rows no module exports: public.notes',
    ]);
    const ok = await cli(['coverage', '--config', config], { VAULT_CLI_NOTES_COVERED: '1' });
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('coverage ok');
  }, 60_000);

  it('errors are one line with the code and a non-zero exit: a corrupt snapshot, no config, a bad command line', async () => {
    const data = join(storage, 'tenants', 'a', 'snapshots', `${snapshotId}.data`);
    const bytes = readFileSync(data);
    const at = Math.floor(bytes.length / 2);
    bytes[at] = (bytes[at] ?? 0) ^ 0x01;
    writeFileSync(data, bytes);
    const corrupt = await cli([
      'verify',
      '--config',
      config,
      '--tenant',
      'a',
      '--snapshot',
      snapshotId,
      '--quiet',
    ]);
    expect(corrupt.code).toBe(1);
    expect(corrupt.stderr.trim().split('\n')).toHaveLength(1);
    expect(corrupt.stderr).toMatch(/^tenantry-vault: VAULT_SNAPSHOT_CORRUPT: /);

    // A snapshot the index knows whose object is gone from storage: the object is missing, not the snapshot.
    renameSync(data, `${data}.moved`);
    const missingData = await cli([
      'verify',
      '--config',
      config,
      '--tenant',
      'a',
      '--snapshot',
      snapshotId,
      '--quiet',
    ]);
    expect(missingData.code).toBe(1);
    expect(missingData.stderr.trim()).toBe(
      "tenantry-vault: VAULT_OBJECT_NOT_FOUND: The snapshot's data object is missing from storage",
    );
    renameSync(`${data}.moved`, data);
    const manifestFile = join(storage, 'tenants', 'a', 'snapshots', `${snapshotId}.manifest.json`);
    renameSync(manifestFile, `${manifestFile}.moved`);
    const missingManifest = await cli([
      'verify',
      '--config',
      config,
      '--tenant',
      'a',
      '--snapshot',
      snapshotId,
    ]);
    expect(missingManifest.stderr.trim()).toBe(
      "tenantry-vault: VAULT_OBJECT_NOT_FOUND: The snapshot's manifest object is missing from storage",
    );
    renameSync(`${manifestFile}.moved`, manifestFile);
    const unknownId = await cli([
      'verify',
      '--config',
      config,
      '--tenant',
      'a',
      '--snapshot',
      '00000000-0000-4000-8000-000000000000',
    ]);
    expect(unknownId.stderr.trim()).toBe(
      'tenantry-vault: VAULT_SNAPSHOT_NOT_FOUND: No such snapshot for this tenant',
    );

    // A config that fails to load says why, on the same line.
    const failing = await cli(['list', '--config', config, '--tenant', 'a'], { VAULT_CLI_OWNER_URL: '' });
    expect(failing.code).toBe(1);
    expect(failing.stderr.trim()).toBe(
      'tenantry-vault: VAULT_CONFIG_INVALID: The config file failed to load: VAULT_CLI_OWNER_URL is not set',
    );

    const noConfig = await cli([
      'list',
      '--config',
      join(here, 'fixtures', 'missing.config.ts'),
      '--tenant',
      'a',
    ]);
    expect(noConfig.code).toBe(1);
    expect(noConfig.stderr.trim()).toBe(
      'tenantry-vault: VAULT_CONFIG_INVALID: The config file does not exist',
    );

    const unknown = await cli(['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr.split('\n')[0]).toBe(
      'tenantry-vault: VALIDATION_FAILED: unknown command "frobnicate"',
    );
    const badTenant = await cli(['snapshot', '--config', config, '--tenant', '../etc']);
    expect(badTenant.code).toBe(1);
    expect(badTenant.stderr).toMatch(/^tenantry-vault: VALIDATION_FAILED: /);
  }, 60_000);

  it('prune: needs a rule (exit 2); --keep-last 0 deletes the snapshot, its objects and its record', async () => {
    const none = await cli(['prune', '--config', config, '--tenant', 'a']);
    expect(none.code).toBe(2);
    expect(none.stderr.trim()).toBe(
      'tenantry-vault: VAULT_CONFIG_INVALID: prune needs --keep-last and/or --newer-than',
    );
    const r = await cli(['prune', '--config', config, '--tenant', 'a', '--keep-last', '0']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`pruned tenant a: 1 snapshot(s) deleted, 0 kept\n  deleted ${snapshotId}`);
    expect(existsSync(join(storage, 'tenants', 'a'))).toBe(false);
    const list = await cli(['list', '--config', config, '--tenant', 'a']);
    expect(list.stdout.trim()).toBe('no snapshots for tenant a');
  }, 60_000);
});

describe('tenantry-vault config loading on a Node without a TypeScript loader preloaded', () => {
  it('loads .ts and .mts configs: tsx is registered before the first import of the file', async () => {
    // The config loader bundled to plain JavaScript (inside the package, so it resolves tsx the way an
    // installed @tenantry/vault does), run by a bare `node` (no --import tsx, no type stripping on 20).
    mkdirSync(join(here, '..', 'node_modules'), { recursive: true });
    const work = mkdtempSync(join(here, '..', 'node_modules', '.vault-cli-ts-config-'));
    try {
      await build({
        entry: { config: join(here, '..', 'src', 'cli', 'config.ts') },
        format: ['esm'],
        platform: 'node',
        outDir: work,
        outExtension: () => ({ js: '.mjs' }),
        noExternal: [/.*/],
        dts: false,
        splitting: false,
        sourcemap: false,
        silent: true,
        config: false,
        esbuildOptions(options) {
          options.conditions = ['@tenantry/source'];
        },
      });
      const source = `type Opts = { vault: Record<string, unknown>; actor: { id: string; kind: 'service' } };
const options: Opts = { vault: { marker: 1 }, actor: { id: 'ts-config', kind: 'service' } };
export default (): Opts => options;
`;
      writeFileSync(join(work, 'a.config.ts'), source);
      writeFileSync(join(work, 'b.config.mts'), source);
      writeFileSync(
        join(work, 'run.mjs'),
        `import { loadVaultCliConfig } from './config.mjs';
for (const f of ['a.config.ts', 'b.config.mts']) {
  try {
    const c = await loadVaultCliConfig(f, ${JSON.stringify(work)});
    console.log(f, JSON.stringify(c.vault), c.actor.id);
  } catch (e) {
    console.log(f, e.code, e.message, e.cause?.message);
  }
}
`,
      );
      const out = await new Promise<string>((resolve, reject) => {
        const child = spawn(process.execPath, [join(work, 'run.mjs')], { stdio: ['ignore', 'pipe', 'pipe'] });
        let text = '';
        child.stdout.on('data', (c: Buffer) => {
          text += c.toString();
        });
        child.stderr.on('data', (c: Buffer) => {
          text += c.toString();
        });
        child.on('error', reject);
        child.on('close', () => resolve(text));
      });
      expect(out.trim().split('\n')).toEqual([
        'a.config.ts {"marker":1} ts-config',
        'b.config.mts {"marker":1} ts-config',
      ]);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }, 60_000);
});
