// Four-eyes approvals through Express: a route marked as requiring approval creates a request (202 +
// Location) instead of running; a second person approves through the routes and the action runs once.
import { createApprovalEngine } from '@tenantry/approvals';
import { MemoryApprovalStore } from '@tenantry/approvals/memory';
import {
  MemoryAuditPort,
  createGatekeeper,
  directConfigSource,
  requireTenant,
  runAsTenant,
} from '@tenantry/core';
import express from 'express';
import request from 'supertest';
import { beforeAll, describe, expect, it } from 'vitest';
import { approvalRoutes } from '../src/approvals.js';
import { tenancy } from '../src/index.js';
import { AUTH, bearer, mint, seedTenants } from './helpers.js';

const items = new Map<string, Set<string>>([
  ['acme', new Set(['42', '43', '44'])],
  ['globex', new Set(['42'])],
]);
const locked = new Set<string>();
const executions: Array<{ tenantId: string; id: string }> = [];
const engine = createApprovalEngine({ store: new MemoryApprovalStore(), audit: new MemoryAuditPort() });
engine.registerResource('item', {
  lock: ({ tenantId, resource }) => void locked.add(`${tenantId}/${resource.id}`),
  unlock: ({ tenantId, resource }) => void locked.delete(`${tenantId}/${resource.id}`),
});
const passwordsSet: unknown[] = [];
engine.registerResource('user', { lock: () => undefined, unlock: () => undefined });
engine.registerAction('user.password', {
  execute: ({ payload }) => void passwordsSet.push(payload),
});
engine.registerAction('item.delete', {
  execute: ({ tenantId, request: r }) => {
    executions.push({ tenantId, id: r.resource.id });
    items.get(tenantId)?.delete(r.resource.id);
  },
});

let app: express.Express;
const maker = () => mint({ tenantId: 'acme', sub: 'mo', roles: ['OPERATOR'] });
const manager = (sub: string, tenantId = 'acme') => mint({ tenantId, sub, roles: ['MANAGER'] });

beforeAll(async () => {
  for (const tenantId of ['acme', 'globex']) {
    await runAsTenant({ tenantId, actor: { id: 'ada', roles: ['TENANT_ADMIN'] } }, () =>
      engine.setPolicies({
        policies: [
          { action: 'item.delete', approvalsRequired: 1, approverRoles: ['MANAGER'] },
          { action: 'user.password', approvalsRequired: 1, approverRoles: ['MANAGER'] },
        ],
      }),
    );
  }
  const store = await seedTenants();
  const t = tenancy({
    auth: AUTH,
    audit: new MemoryAuditPort(),
    gatekeeper: createGatekeeper({ config: directConfigSource(store) }),
    rateLimit: false,
  });
  const approvals = approvalRoutes({ engine, basePath: '/ops/approvals' });
  app = express();
  app.use(t);
  app.delete(
    '/ops/items/:id',
    approvals.require({
      action: 'item.delete',
      resource: (req) => ({ type: 'item', id: String(req.params.id) }),
    }),
  );
  app.put(
    '/ops/users/:id/password',
    approvals.require({
      action: 'user.password',
      resource: (req) => ({ type: 'user', id: String(req.params.id) }),
    }),
  );
  app.get('/ops/items', (_req, res) => {
    res.json([...(items.get(requireTenant().tenantId) ?? [])]);
  });
  app.use(approvals.router);
  app.use(t.errors);
});

async function ask(id: string): Promise<{ location: string; requestId: string }> {
  const res = await request(app)
    .delete(`/ops/items/${id}`)
    .set(bearer(await maker()))
    .set('x-approval-justification', 'duplicate entry');
  expect(res.status).toBe(202);
  expect(res.body).toMatchObject({
    status: 'PENDING',
    action: 'item.delete',
    resource: { type: 'item', id },
  });
  expect(res.headers.location).toBe(`/ops/approvals/${res.body.id}`);
  return { location: res.headers.location as string, requestId: res.body.id as string };
}

describe('approvals through Express', () => {
  it('a marked route asks instead of executing; a second person approves and the action runs once', async () => {
    const { location, requestId } = await ask('42');
    // Nothing ran: the item is still there, soft-locked.
    expect(executions).toEqual([]);
    expect(locked.has('acme/42')).toBe(true);
    const listed = await request(app)
      .get('/ops/items')
      .set(bearer(await maker()));
    expect(listed.body).toContain('42');

    // The maker cannot approve their own request.
    const self = await request(app)
      .post(`${location}/approve`)
      .set(bearer(await maker()))
      .send({});
    expect([self.status, self.body.code]).toEqual([403, 'APPROVAL_SELF_APPROVAL']);

    // Another tenant's manager neither sees nor decides it.
    const foreign = bearer(await manager('gus', 'globex'));
    expect((await request(app).get(location).set(foreign)).body.code).toBe('APPROVAL_NOT_FOUND');
    const foreignApprove = await request(app).post(`${location}/approve`).set(foreign).send({});
    expect([foreignApprove.status, foreignApprove.body.code]).toEqual([404, 'APPROVAL_NOT_FOUND']);
    expect((await request(app).get('/ops/approvals/inbox').set(foreign)).body.items).toEqual([]);

    // The approver finds it in the inbox and in the resource's history.
    const alice = bearer(await manager('alice'));
    const inbox = await request(app).get('/ops/approvals/inbox').set(alice);
    expect(inbox.status).toBe(200);
    expect(inbox.body.items.map((r: { id: string }) => r.id)).toEqual([requestId]);
    const history = await request(app)
      .get('/ops/approvals')
      .query({ resourceType: 'item', resourceId: '42' })
      .set(alice);
    expect(history.body.items.map((r: { id: string; status: string }) => [r.id, r.status])).toEqual([
      [requestId, 'PENDING'],
    ]);
    expect(executions).toEqual([]);

    // Two managers approve at once: one approval executes the action, once.
    const bob = bearer(await manager('bob'));
    const [a, b] = await Promise.all([
      request(app).post(`${location}/approve`).set(alice).send({ comment: 'checked' }),
      request(app).post(`${location}/approve`).set(bob).send({}),
    ]);
    expect([a.status, b.status].sort()).toEqual([200, 409]);
    expect([a, b].find((r) => r.status === 200)?.body.status).toBe('EXECUTED');
    expect(executions).toEqual([{ tenantId: 'acme', id: '42' }]);
    expect(items.get('acme')?.has('42')).toBe(false);
    expect(items.get('globex')?.has('42')).toBe(true);

    // Final: approving again changes nothing.
    const again = await request(app)
      .post(`${location}/approve`)
      .set(bearer(await manager('carol')))
      .send({});
    expect(again.status).toBe(409);
    expect(executions).toHaveLength(1);
    const done = await request(app).get(location).set(alice);
    expect(done.body.history.map((h: { type: string }) => h.type)).toEqual([
      'requested',
      'approved',
      'executed',
    ]);
  });

  it('shows payloads with secret-named keys masked; the handler gets them whole', async () => {
    const body = { new_password: 'hunter2-secret', apiKey: 'ak-secret', note: 'rotation' };
    const asked = await request(app)
      .put('/ops/users/u7/password')
      .set(bearer(await maker()))
      .set('x-approval-justification', 'locked out')
      .send(body);
    expect(asked.status).toBe(202);
    const location = asked.headers.location as string;
    const alice = bearer(await manager('alice'));
    const views = [
      asked.body,
      (await request(app).get(location).set(alice)).body,
      (await request(app).get('/ops/approvals/inbox').set(alice)).body,
      (await request(app).get('/ops/approvals').set(alice)).body,
      (await request(app).post(`${location}/approve`).set(alice).send({})).body,
    ];
    for (const v of views) expect(JSON.stringify(v)).not.toContain('secret');
    expect(views[1].payload).toEqual({
      params: { id: 'u7' },
      body: { new_password: '[MASKED]', apiKey: '[MASKED]', note: 'rotation' },
    });
    expect(views[4].status).toBe('EXECUTED');
    expect(passwordsSet).toEqual([{ params: { id: 'u7' }, body }]);
  });

  it('a rejected request never runs and releases the lock', async () => {
    const { location } = await ask('43');
    const rejected = await request(app)
      .post(`${location}/reject`)
      .set(bearer(await manager('alice')))
      .send({ comment: 'keep it' });
    expect([rejected.status, rejected.body.status]).toEqual([200, 'REJECTED']);
    expect(locked.has('acme/43')).toBe(false);
    expect(items.get('acme')?.has('43')).toBe(true);
    expect(executions.filter((e) => e.id === '43')).toEqual([]);
    const late = await request(app)
      .post(`${location}/approve`)
      .set(bearer(await manager('bob')))
      .send({});
    expect(late.status).toBe(409);
    expect(executions.filter((e) => e.id === '43')).toEqual([]);
  });

  it('refuses a request without justification, and malformed ids and queries, with 400', async () => {
    const none = await request(app)
      .delete('/ops/items/44')
      .set(bearer(await maker()));
    expect([none.status, none.body.code]).toEqual([400, 'VALIDATION_FAILED']);
    const alice = bearer(await manager('alice'));
    expect((await request(app).post('/ops/approvals/not-a-uuid/approve').set(alice).send({})).status).toBe(
      400,
    );
    expect((await request(app).get('/ops/approvals').query({ limit: 'x' }).set(alice)).status).toBe(400);
    expect(locked.has('acme/44')).toBe(false);
  });
});
