import { EventEmitter } from 'node:events';
import { Readable, Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bindToCurrentContext, currentTenantContext, runAsTenant } from '../src/index.js';

type Step = 'await' | 'timeout' | 'immediate' | 'nextTick' | 'emit' | 'bus' | 'stream' | 'nested';

const STEPS: Step[] = ['await', 'timeout', 'immediate', 'nextTick', 'emit', 'bus', 'stream', 'nested'];

/**
 * Runs many tenants' tasks concurrently, each a random sequence of asynchronous steps, and records
 * every observation of the current tenant made by a function created on behalf of a task.
 */
async function runProgram(tasks: Array<{ tenant: string; steps: Step[] }>, bindBusListeners: boolean) {
  const violations: string[] = [];
  let observations = 0;
  const bus = new EventEmitter();
  bus.setMaxListeners(0);
  const pending: string[] = [];
  let busFired = 0;
  let busRegistered = 0;

  const observe = (expected: string, where: string) => {
    observations++;
    const seen = currentTenantContext()?.tenantId;
    if (seen !== expected) violations.push(`${where}: expected ${expected}, saw ${seen ?? 'none'}`);
  };

  const runTask = (task: { tenant: string; steps: Step[] }, index: number) =>
    runAsTenant({ tenantId: task.tenant, actor: { id: `u${index}` } }, async () => {
      for (const [i, step] of task.steps.entries()) {
        const where = `${task.tenant}#${index}.${i}:${step}`;
        switch (step) {
          case 'await':
            await Promise.resolve();
            break;
          case 'timeout':
            await new Promise<void>((r) =>
              setTimeout(() => {
                observe(task.tenant, where);
                r();
              }, i % 3),
            );
            break;
          case 'immediate':
            await new Promise<void>((r) =>
              setImmediate(() => {
                observe(task.tenant, where);
                r();
              }),
            );
            break;
          case 'nextTick':
            await new Promise<void>((r) =>
              process.nextTick(() => {
                observe(task.tenant, where);
                r();
              }),
            );
            break;
          case 'emit': {
            // An emitter the task owns and emits on: listeners run in the emitting (own) context.
            const own = new EventEmitter();
            own.on('x', () => observe(task.tenant, where));
            await new Promise((r) => setTimeout(r, 0));
            own.emit('x');
            break;
          }
          case 'bus': {
            // A shared, long-lived bus: another tenant's task will emit. Only a bound listener is safe.
            const event = `${index}.${i}`;
            const listener = () => {
              busFired++;
              observe(task.tenant, where);
            };
            bus.once(event, bindBusListeners ? bindToCurrentContext(listener) : listener);
            busRegistered++;
            pending.push(event);
            // Flush whatever other tasks left on the bus, from this task's context.
            for (const e of pending.splice(0, pending.length - 1)) bus.emit(e);
            break;
          }
          case 'stream': {
            const chunks: number[] = [];
            await pipeline(
              Readable.from([1, 2, 3]),
              new Transform({
                objectMode: true,
                transform(chunk: number, _enc, cb) {
                  observe(task.tenant, where);
                  setTimeout(() => cb(null, chunk * 2), 0);
                },
              }),
              new Writable({
                objectMode: true,
                write(chunk: number, _enc, cb) {
                  observe(task.tenant, where);
                  chunks.push(chunk);
                  cb();
                },
              }),
            );
            break;
          }
          case 'nested':
            await runAsTenant({ tenantId: task.tenant, actor: { id: `nested${index}` } }, async () => {
              await Promise.resolve();
              observe(task.tenant, where);
            });
            break;
        }
        observe(task.tenant, where);
      }
    });

  await Promise.all(tasks.map(runTask));
  // Whatever is still on the bus is emitted with no context at all.
  for (const e of pending.splice(0)) bus.emit(e);
  return { violations, observations, busFired, busRegistered };
}

const programArb = fc.array(
  fc.record({
    tenant: fc.constantFrom('acme', 'globex', 'initech', 'umbrella'),
    steps: fc.array(fc.constantFrom(...STEPS), { minLength: 1, maxLength: 10 }),
  }),
  { minLength: 1, maxLength: 12 },
);

describe('tenant context isolation (T1, T5), property-based', () => {
  it('no function ever observes another tenant under random interleavings', async () => {
    let totalObservations = 0;
    await fc.assert(
      fc.asyncProperty(programArb, async (tasks) => {
        const result = await runProgram(tasks, true);
        totalObservations += result.observations;
        expect(result.violations).toEqual([]);
        expect(result.busFired).toBe(result.busRegistered);
      }),
      { numRuns: 200 },
    );
    expect(totalObservations).toBeGreaterThan(1000);
  });

  it('the property is sensitive: unbound listeners on a shared bus do see other tenants', async () => {
    const tasks = [
      { tenant: 'acme', steps: ['bus', 'timeout', 'bus'] as Step[] },
      { tenant: 'globex', steps: ['timeout', 'bus', 'bus'] as Step[] },
    ];
    const result = await runProgram(tasks, false);
    expect(result.violations.length).toBeGreaterThan(0);
  });
});
