import { type ChildProcess, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { createInterface } from 'node:readline';

const require = createRequire(import.meta.url);

/** Node flags that let a child process run TypeScript sources of this monorepo directly. */
export function sourceNodeFlags(): string[] {
  const tsx = pathToFileURL(require.resolve('tsx/esm')).href;
  return ['--conditions=@tenantry/source', '--import', tsx];
}

/**
 * Node flags that run a TypeScript script (a bench's server) while `@tenantry/*` imports resolve to the
 * packages' built `dist`, as in a user's app: without the `@tenantry/source` condition.
 */
export function builtNodeFlags(): string[] {
  return ['--import', pathToFileURL(require.resolve('tsx/esm')).href];
}

/** Options for {@link runWorkers}. */
export interface RunWorkersOptions {
  /** Absolute path of the worker script (TypeScript is fine). */
  script: string;
  /** How many workers run at once. */
  workers: number;
  /** Arguments for worker `i` (its index, and its generation: 0 first, +1 per respawn after a kill). */
  args?: (index: number, generation: number) => string[];
  /** Extra environment for every worker. */
  env?: Record<string, string>;
  /** Kill workers with SIGKILL at random moments. */
  chaos?: {
    /** Delay between kills, drawn uniformly from this range, in ms. */
    intervalMs: [number, number];
    /** Stop killing after this many kills. */
    maxKills: number;
    /** Start a replacement for each killed worker (next generation). @default true */
    respawn?: boolean;
  };
  /** Fail if the workers are not all done by then. @default 120000 */
  timeoutMs?: number;
}

/** What one worker process said and how it ended. */
export interface WorkerExit {
  index: number;
  generation: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  killedByChaos: boolean;
  messages: unknown[];
  stderr: string;
}

/** Result of {@link runWorkers}. */
export interface RunWorkersResult {
  exits: WorkerExit[];
  kills: number;
  /** Every JSON message from every worker, in arrival order. */
  messages: unknown[];
}

/**
 * Run a script in several child processes at once, optionally killing them at random with SIGKILL
 * (and respawning them) to test crash safety. Workers report with `reportToParent` from
 * `@tenantry/testkit/child`; each JSON line on their stdout is collected.
 * Rejects if a worker not killed by the chaos exits non-zero, or on timeout.
 */
export async function runWorkers(options: RunWorkersOptions): Promise<RunWorkersResult> {
  const timeoutMs = options.timeoutMs ?? 120_000;
  const exits: WorkerExit[] = [];
  const messages: unknown[] = [];
  const live = new Map<ChildProcess, WorkerExit>();
  let kills = 0;
  let chaosTimer: NodeJS.Timeout | undefined;
  let finish: (() => void) | undefined;
  let fail: ((e: Error) => void) | undefined;
  const done = new Promise<void>((resolve, reject) => {
    finish = resolve;
    fail = reject;
  });

  const start = (index: number, generation: number): void => {
    const child = spawn(
      process.execPath,
      [...sourceNodeFlags(), options.script, ...(options.args?.(index, generation) ?? [])],
      {
        env: {
          ...process.env,
          ...options.env,
          TENANTRY_WORKER_INDEX: String(index),
          TENANTRY_WORKER_GENERATION: String(generation),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const record: WorkerExit = {
      index,
      generation,
      code: null,
      signal: null,
      killedByChaos: false,
      messages: [],
      stderr: '',
    };
    live.set(child, record);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (!line.startsWith('{') && !line.startsWith('[')) return;
      try {
        const msg = JSON.parse(line) as unknown;
        record.messages.push(msg);
        messages.push(msg);
      } catch {
        // A line cut short by SIGKILL: ignore it, as a crashed worker's last words may be partial.
      }
    });
    child.stderr!.on('data', (d: Buffer) => {
      record.stderr = (record.stderr + d.toString()).slice(-8000);
    });
    child.on('exit', (code, signal) => {
      record.code = code;
      record.signal = signal;
      live.delete(child);
      exits.push(record);
      if (record.killedByChaos && (options.chaos?.respawn ?? true)) {
        start(index, generation + 1);
      } else if (!record.killedByChaos && code !== 0) {
        fail?.(new Error(`worker ${index}/${generation} exited with ${code ?? signal}: ${record.stderr}`));
        return;
      }
      if (live.size === 0) finish?.();
    });
  };

  const scheduleKill = (): void => {
    const chaos = options.chaos;
    if (!chaos || kills >= chaos.maxKills) return;
    const [min, max] = chaos.intervalMs;
    chaosTimer = setTimeout(
      () => {
        const victims = [...live.entries()].filter(([, r]) => !r.killedByChaos);
        const pick = victims[Math.floor(Math.random() * victims.length)];
        if (pick) {
          pick[1].killedByChaos = true;
          pick[0].kill('SIGKILL');
          kills++;
        }
        scheduleKill();
      },
      min + Math.random() * (max - min),
    );
  };

  for (let i = 0; i < options.workers; i++) start(i, 0);
  scheduleKill();
  const timer = setTimeout(
    () => fail?.(new Error(`workers did not finish within ${timeoutMs} ms`)),
    timeoutMs,
  );
  try {
    await done;
  } finally {
    clearTimeout(timer);
    if (chaosTimer) clearTimeout(chaosTimer);
    for (const child of live.keys()) child.kill('SIGKILL');
  }
  return { exits, kills, messages };
}

/** A child process started by {@link startChild}, with the first JSON line it printed (e.g. `{"port":N}`). */
export interface StartedChild<T> {
  child: ChildProcess;
  first: T;
}

/**
 * Start a long-running child (a server, a queue worker) on the sources (or with `nodeFlags`, e.g.
 * {@link builtNodeFlags}) and resolve once it prints its first JSON line on stdout. Rejects with its stderr if it exits or stays silent for `timeoutMs`.
 * Stop it with {@link stopChildren}.
 */
export function startChild<T = unknown>(
  script: string,
  args: string[] = [],
  timeoutMs = 30_000,
  nodeFlags: string[] = sourceNodeFlags(),
): Promise<StartedChild<T>> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeFlags, script, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stderr?.on('data', (d) => {
      err += String(d);
    });
    child.stdout?.on('data', (d) => {
      out += String(d);
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line) {
        clearTimeout(timer);
        resolve({ child, first: JSON.parse(line) as T });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${script} exited ${code}: ${err}`));
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${script} did not start: ${err}`));
    }, timeoutMs).unref();
  });
}

/** SIGTERM each child still running and wait until all have exited. */
export async function stopChildren(children: ReadonlyArray<ChildProcess | undefined>): Promise<void> {
  await Promise.all(
    children.map(
      (c) =>
        new Promise<void>((resolve) => {
          if (!c || c.exitCode !== null || c.signalCode !== null) return resolve();
          c.once('exit', () => resolve());
          c.kill('SIGTERM');
        }),
    ),
  );
}
