import { describe, expect, it } from 'vitest';
import { CliExitCodes, ProgressView, parseDuration, runCli } from '../src/cli.js';

function capture(isTTY: boolean) {
  const chunks: string[] = [];
  return { stream: { isTTY, columns: 120, write: (t: string) => chunks.push(t) }, chunks };
}

describe('ProgressView', () => {
  it('on a terminal: one line redrawn in place with a bar and the figures, at most every 100 ms', () => {
    let now = 0;
    const { stream, chunks } = capture(true);
    const view = new ProgressView(stream, { label: 'restore acme', totalBytes: 1000, now: () => now });
    now = 1000;
    view.update({ operation: 'restore', step: 'import', module: 'users', records: 5000, bytes: 500 });
    now = 1050;
    view.update({ operation: 'restore', step: 'import', module: 'users', records: 6000, bytes: 600 });
    expect(chunks).toHaveLength(1);
    expect(chunks[0]).toBe(
      '\r\x1b[2Krestore acme [import users] [###############---------------] 50% 5,000 records, 500 B, 500 B/s, 5,000 records/s',
    );
    now = 1200;
    view.update({ operation: 'restore', step: 'import', module: 'users', records: 12_000, bytes: 1000 });
    expect(chunks[1]).toContain('[##############################] 100% 12,000 records');
    view.finish();
    expect(chunks.at(-1)).toBe('\r\x1b[2K');
  });

  it('otherwise: plain lines, one per new module or step, else at most every interval', () => {
    let now = 0;
    const { stream, chunks } = capture(false);
    const view = new ProgressView(stream, { label: 'snapshot acme', plainIntervalMs: 2000, now: () => now });
    now = 2000;
    view.update({ operation: 'snapshot', module: 'users', records: 10, bytes: 2048 });
    now = 2500;
    view.update({ operation: 'snapshot', module: 'users', records: 20, bytes: 4096 });
    now = 3000;
    view.update({ operation: 'snapshot', module: 'tasks', records: 30, bytes: 3 * 1024 * 1024 });
    now = 5000;
    view.update({ operation: 'snapshot', module: 'tasks', records: 40, bytes: 4 * 1024 * 1024 });
    expect(chunks).toEqual([
      'snapshot acme [users]: 10 records, 2.0 KB, 1.0 KB/s, 5 records/s\n',
      'snapshot acme [tasks]: 30 records, 3.0 MB, 1.0 MB/s, 10 records/s\n',
      'snapshot acme [tasks]: 40 records, 4.0 MB, 819 KB/s, 8 records/s\n',
    ]);
    expect(chunks.join('')).not.toContain('\r');
  });
});

describe('runCli (in process)', () => {
  const io = () => {
    const out = capture(false);
    const err = capture(false);
    return {
      io: { stdout: out.stream, stderr: err.stream, cwd: process.cwd() },
      out: out.chunks,
      err: err.chunks,
    };
  };

  it('--help prints the usage and exits 0; no command or an unknown one exits 2 with one error line first', async () => {
    const help = io();
    expect(await runCli(['--help'], help.io)).toBe(CliExitCodes.ok);
    expect(help.out.join('')).toContain('Usage: tenantry-vault <command>');
    const none = io();
    expect(await runCli([], none.io)).toBe(CliExitCodes.usage);
    const bad = io();
    expect(await runCli(['snapshot', '--tenant'], bad.io)).toBe(CliExitCodes.usage);
    expect(bad.err.join('').split('\n')[0]).toMatch(/^tenantry-vault: VALIDATION_FAILED: /);
    const unknownOption = io();
    expect(await runCli(['list', '--bogus'], unknownOption.io)).toBe(CliExitCodes.usage);
  });

  it('without a config file: one line with VAULT_CONFIG_INVALID, exit 1', async () => {
    const r = io();
    r.io.cwd = '/';
    expect(await runCli(['list', '--tenant', 'a'], r.io)).toBe(CliExitCodes.failed);
    expect(r.err.join('')).toBe(
      'tenantry-vault: VAULT_CONFIG_INVALID: No config file: pass --config or create tenantry-vault.config.mjs\n',
    );
  });

  it('parseDuration reads ms, s, m, h, d, w and refuses the rest', () => {
    expect([
      parseDuration('250ms'),
      parseDuration('2s'),
      parseDuration('3m'),
      parseDuration('1h'),
      parseDuration('30d'),
      parseDuration('1w'),
    ]).toEqual([250, 2000, 180_000, 3_600_000, 2_592_000_000, 604_800_000]);
    for (const bad of ['', '1', '1y', '-1d', '1.5h', 'd'])
      expect(() => parseDuration(bad)).toThrow(expect.objectContaining({ code: 'VAULT_CONFIG_INVALID' }));
  });
});
