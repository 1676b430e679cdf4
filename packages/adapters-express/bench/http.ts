// Throughput of one route behind the Express adapter, against the same route bare, measured with
// autocannon on loopback in the same run, alternating the order every round; rates are medians, ratios
// the median of the per-round ratios; each app alone in its own child process (fixtures/one-server.ts,
// which says what each app holds). "Bare" is the same Express app and POST route with no Tenantry
// middleware (express.json only). Rows: tenant resolution + context (jose-verified token, cached;
// runAsTenant) vs bare, both without helmet; the same with the adapter's default helmet headers vs
// bare + helmet(); the full stack (+ gatekeeper on a started config cache + buffered audit log of the
// POST) vs bare; the adapter's own share (the same with events handed to an in-memory port instead of
// @tenantry/audit's log); and token + context vs its hand-written equivalent. Bounded: 5 rounds × 2 s
// per app, plus a warm-up. BENCH_ROUNDS/BENCH_SECONDS shorten it.
import { fileURLToPath } from 'node:url';
import { pairedRow, printBench } from '@tenantry/testkit/bench';
import { cpuLine, measureApps } from './fixtures/measure-apps.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 2);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const CONNECTIONS = 16;

const { rates: m, cpuUsPerRequest: cpu } = await measureApps({
  script: fileURLToPath(new URL('./fixtures/one-server.ts', import.meta.url)),
  apps: ['bare', 'context', 'bareHelmet', 'contextHelmet', 'adapterOnly', 'full', 'handwritten'] as const,
  rounds: ROUNDS,
  seconds: SECONDS,
  connections: CONNECTIONS,
});
const row = (workload: string, ours: number[], baseline: number[]) =>
  pairedRow(workload, ours, baseline, 'req/s');
// Server CPU per request (before the table: with --json, the table's JSON is the last line).
console.log(
  [
    cpuLine('token + context vs bare', cpu.context, cpu.bare),
    cpuLine('token + context + helmet vs bare + helmet', cpu.contextHelmet, cpu.bareHelmet),
    cpuLine('full stack (gatekeeper + buffered audit log) vs bare', cpu.full, cpu.bare),
    cpuLine('gatekeeper + audit event to memory port vs bare', cpu.adapterOnly, cpu.bare),
    cpuLine('token + context vs hand-written', cpu.context, cpu.handwritten),
  ].join('\n'),
);
printBench(
  `@tenantry/express, POST with JSON body, ${CONNECTIONS} connections, ${ROUNDS}×${SECONDS}s per app, one process per app`,
  [
    row('express: token + context vs bare Express (helmet off in both)', m.context, m.bare),
    row(
      'express: token + context + helmet (defaults) vs bare Express + helmet()',
      m.contextHelmet,
      m.bareHelmet,
    ),
    row('express: + gatekeeper (cached config) + buffered audit log vs bare Express', m.full, m.bare),
    row('express: + gatekeeper + audit event to memory port vs bare Express', m.adapterOnly, m.bare),
    row(
      'express: token + context vs hand-written (jose jwtVerify + AsyncLocalStorage)',
      m.context,
      m.handwritten,
    ),
  ],
);
