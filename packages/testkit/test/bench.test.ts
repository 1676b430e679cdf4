import { describe, expect, it } from 'vitest';
import { processCpuMs } from '../src/bench.js';

describe('processCpuMs', () => {
  it("reads a process's CPU time, which grows while it works", () => {
    const before = processCpuMs(process.pid);
    expect(before).toBeTypeOf('number');
    const until = Date.now() + 150;
    let spin = 0;
    while (Date.now() < until) spin++;
    expect(spin).toBeGreaterThan(0);
    const after = processCpuMs(process.pid) as number;
    // Ticks of 10 ms: 150 ms of spinning is at least 100 ms of CPU on any scheduler that runs us.
    expect(after - (before as number)).toBeGreaterThanOrEqual(100);
  });

  it('answers undefined for no pid and for a process that does not exist', () => {
    expect(processCpuMs(undefined)).toBeUndefined();
    expect(processCpuMs(2 ** 31 - 1)).toBeUndefined();
  });
});
