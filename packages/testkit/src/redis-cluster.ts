import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A throwaway Redis Cluster on loopback. */
export interface LocalRedisCluster {
  /** Seed nodes for `new Cluster(nodes)`. */
  nodes: Array<{ host: string; port: number }>;
  stop(): Promise<void>;
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

async function pickPorts(count: number): Promise<number[]> {
  // Cluster nodes also listen on port + 10000 for the bus, so both must be free.
  const ports: number[] = [];
  while (ports.length < count) {
    const p = 20000 + Math.floor(Math.random() * 30000);
    if (ports.includes(p)) continue;
    if ((await portFree(p)) && (await portFree(p + 10000))) ports.push(p);
  }
  return ports;
}

/** Whether `redis-server` and `redis-cli` are on this machine; a reason string if not. */
export async function redisClusterUnavailableReason(): Promise<string | undefined> {
  try {
    await run('redis-server', ['--version']);
    await run('redis-cli', ['--version']);
    return undefined;
  } catch {
    return 'redis-server/redis-cli not installed';
  }
}

/**
 * Start `nodes` (≥ 3) `redis-server --cluster-enabled yes` masters on free loopback ports, join them
 * with `redis-cli --cluster create`, and wait until every node reports `cluster_state:ok`.
 */
export async function startRedisCluster(nodes = 3): Promise<LocalRedisCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'tenantry-cluster-'));
  const ports = await pickPorts(nodes);
  const procs: ChildProcess[] = ports.map((port) =>
    spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        `nodes-${port}.conf`,
        '--cluster-node-timeout',
        '2000',
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        dir,
      ],
      { stdio: 'ignore' },
    ),
  );
  const stop = async (): Promise<void> => {
    for (const p of procs) p.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (const port of ports) {
      for (let i = 0; ; i++) {
        try {
          await run('redis-cli', ['-p', String(port), 'ping']);
          break;
        } catch (e) {
          if (i > 50) throw e;
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    }
    await run('redis-cli', [
      '--cluster',
      'create',
      ...ports.map((p) => `127.0.0.1:${p}`),
      '--cluster-replicas',
      '0',
      '--cluster-yes',
    ]);
    for (const port of ports) {
      for (let i = 0; ; i++) {
        const { stdout } = await run('redis-cli', ['-p', String(port), 'cluster', 'info']);
        if (stdout.includes('cluster_state:ok')) break;
        if (i > 100) throw new Error(`cluster node ${port} not ok: ${stdout}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { nodes: ports.map((port) => ({ host: '127.0.0.1', port })), stop };
}
