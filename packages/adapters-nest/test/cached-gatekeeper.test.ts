// The gatekeeper on a started config cache answers at once (no promise) once a tenant is loaded, on
// both platforms; a write through the directory (invalidation) is seen by the very next request.
import {
  createGatekeeper,
  createTenantConfigCache,
  createTenantDirectory,
  noopAuditPort,
  runAsSystem,
} from '@tenantry/core';
import { MemoryInvalidationBus } from '@tenantry/core/memory';
import { countingConfigSource } from '@tenantry/testkit';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { type Platform, bearer, buildNestApp, mint, seedTenants } from './helpers.js';

describe.each(['express', 'fastify'] as Platform[])(
  'gatekeeper on a config cache, Nest on %s',
  (platform) => {
    it('answers from memory after the first load, and refuses a tenant suspended meanwhile on its next request', async () => {
      const store = await seedTenants();
      const bus = new MemoryInvalidationBus();
      const cache = createTenantConfigCache({ store, bus });
      await cache.start();
      const config = countingConfigSource(cache);
      const t = await buildNestApp(platform, { gatekeeper: createGatekeeper({ config }) });
      try {
        const server = t.app.getHttpServer();
        const acme = bearer(await mint({ tenantId: 'acme' }));
        for (let i = 0; i < 3; i++)
          expect((await request(server).get('/ops/whoami').set(acme)).status).toBe(200);
        expect(config.reads).toEqual({ get: 1, peek: 3 });
        const unpaid = await request(server)
          .get('/ops/whoami')
          .set(bearer(await mint({ tenantId: 'hooli' })));
        expect([unpaid.status, unpaid.body.code]).toEqual([402, 'SUBSCRIPTION_PAST_DUE']);
        await runAsSystem({ actor: { id: 'ops', kind: 'service' }, reason: 'test' }, noopAuditPort, () =>
          createTenantDirectory({ store, bus }).suspendTenant('acme'),
        );
        for (let i = 0; i < 2; i++) {
          const refused = await request(server).get('/ops/whoami').set(acme);
          expect([refused.status, refused.body.code]).toEqual([403, 'TENANT_SUSPENDED']);
        }
      } finally {
        await t.close();
        await cache.close();
      }
    });
  },
);
