// Throughput of one Nest route with TenancyModule (token + context; and the full stack: + gatekeeper
// on a started config cache + buffered audit log of the POST) against the same route in a bare Nest
// app and in a nestjs-cls app verifying the token with jose (what users write today), measured with
// autocannon on loopback in the same run, alternating the order every round; rates are medians, ratios
// the median of the per-round ratios; each app alone in its own child process (fixtures/servers.ts).
// Bounded: 5 rounds × 2 s per app, plus a warm-up. BENCH_ROUNDS/BENCH_SECONDS shorten it.
import { fileURLToPath } from 'node:url';
import { pairedRow, printBench } from '@tenantry/testkit/bench';
import { cpuLine, measureApps } from '../../adapters-express/bench/fixtures/measure-apps.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 2);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const CONNECTIONS = 16;

const { rates: m, cpuUsPerRequest: cpu } = await measureApps({
  script: fileURLToPath(new URL('./fixtures/servers.ts', import.meta.url)),
  apps: ['bare', 'tenancy', 'full', 'cls'] as const,
  rounds: ROUNDS,
  seconds: SECONDS,
  connections: CONNECTIONS,
});
const row = (workload: string, ours: number[], baseline: number[]) =>
  pairedRow(workload, ours, baseline, 'req/s');
// Server CPU per request (before the table: with --json, the table's JSON is the last line).
console.log(
  [
    cpuLine('TenancyModule vs bare Nest', cpu.tenancy, cpu.bare),
    cpuLine('full stack (gatekeeper + buffered audit log) vs bare Nest', cpu.full, cpu.bare),
    cpuLine('TenancyModule vs nestjs-cls + jose', cpu.tenancy, cpu.cls),
  ].join('\n'),
);
printBench(
  `@tenantry/nest on Express, POST with JSON body, ${CONNECTIONS} connections, ${ROUNDS}×${SECONDS}s per app, one process per app`,
  [
    row('nest: TenancyModule (token + context) vs bare Nest', m.tenancy, m.bare),
    row('nest: + gatekeeper (cached config) + buffered audit log vs bare Nest', m.full, m.bare),
    row('nest: TenancyModule vs nestjs-cls + jose (hand-written equivalent)', m.tenancy, m.cls),
  ],
);
