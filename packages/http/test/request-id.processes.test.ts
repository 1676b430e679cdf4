// Fresh request ids across OS processes: each process draws its own random prefix, so two processes
// started from the same program (as a cluster or a restart would) never hand out the same id.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const entry = fileURLToPath(new URL('../src/index.ts', import.meta.url));
const program = `
import { noopAuditPort } from '@tenantry/core';
import { createHttpTenancy } from ${JSON.stringify(entry)};
const http = createHttpTenancy({
  auth: { key: { secret: 'a-shared-secret-of-at-least-32-bytes!' }, issuer: 'https://idp.test/', audience: 'a' },
  audit: noopAuditPort,
});
process.stdout.write(JSON.stringify(Array.from({ length: 2000 }, () => http.requestId(undefined))));
`;

describe('fresh request ids in several processes', () => {
  it('two processes of the same program hand out disjoint ids (no shared prefix)', async () => {
    const outputs = await Promise.all(
      [0, 1, 2].map(() =>
        run(
          process.execPath,
          ['--conditions=@tenantry/source', '--import', 'tsx', '--input-type=module', '-e', program],
          {
            cwd: fileURLToPath(new URL('..', import.meta.url)),
          },
        ),
      ),
    );
    const lists = outputs.map((o) => JSON.parse(o.stdout) as string[]);
    const prefixes = new Set(lists.map((l) => (l[0] as string).slice(0, 16)));
    expect(prefixes.size).toBe(3);
    const all = lists.flat();
    expect(new Set(all).size).toBe(all.length);
  }, 60_000);
});
