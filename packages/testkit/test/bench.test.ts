import { describe, expect, it } from 'vitest';
import { processCpuMs } from '../src/bench.js';

describe('processCpuMs', () => {
  it("reads a process's CPU time, which grows by what the process used", () => {
    const before = processCpuMs(process.pid) as number;
    expect(before).toBeTypeOf('number');
    // Spin until the process has used 200 ms of CPU by Node's own count (not by wall time, which a
    // loaded machine stretches), then compare: /proc counts in ticks of 10 ms.
    const start = process.cpuUsage();
    const deadline = Date.now() + 20_000;
    let usedMs = 0;
    while (usedMs < 200 && Date.now() < deadline) {
      const u = process.cpuUsage(start);
      usedMs = (u.user + u.system) / 1000;
    }
    expect(usedMs).toBeGreaterThanOrEqual(200);
    const grew = (processCpuMs(process.pid) as number) - before;
    expect(grew).toBeGreaterThanOrEqual(180);
    expect(grew).toBeLessThan(usedMs + 1000);
  });

  it('answers undefined for no pid and for a process that does not exist', () => {
    expect(processCpuMs(undefined)).toBeUndefined();
    expect(processCpuMs(2 ** 31 - 1)).toBeUndefined();
  });
});
