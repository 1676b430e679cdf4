import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runWorkers } from '../src/index.js';

const script = fileURLToPath(new URL('./fixtures/counting-worker.ts', import.meta.url));

describe('runWorkers', () => {
  it('runs several processes and collects their messages', async () => {
    const res = await runWorkers({ script, workers: 3, args: (i) => [String(i), '5', '0'] });
    expect(res.kills).toBe(0);
    expect(res.exits.map((e) => e.code)).toEqual([0, 0, 0]);
    expect(res.messages).toHaveLength(15);
    expect(new Set(res.exits.map((e) => e.index))).toEqual(new Set([0, 1, 2]));
  });

  it('kills workers at random with SIGKILL and respawns them', async () => {
    const res = await runWorkers({
      script,
      workers: 2,
      args: (i) => [String(i), '100', '20'],
      chaos: { intervalMs: [300, 600], maxKills: 3 },
      timeoutMs: 60_000,
    });
    expect(res.kills).toBe(3);
    const killed = res.exits.filter((e) => e.killedByChaos);
    expect(killed).toHaveLength(3);
    for (const k of killed) expect(k.signal).toBe('SIGKILL');
    expect(res.exits.filter((e) => !e.killedByChaos).every((e) => e.code === 0)).toBe(true);
  });

  it('fails when a worker crashes on its own', async () => {
    await expect(runWorkers({ script, workers: 1, args: () => ['0', '1', '0', 'crash'] })).rejects.toThrow(
      /exited with 3/,
    );
  });
});
