// Four-eyes approvals through Nest (Express and Fastify platforms): a handler marked @RequiresApproval()
// creates a request (202 + Location) instead of running; a second person approves through the routes of
// TenancyApprovalsModule and the action runs once. Same answers as @tenantry/express/approvals.
import { createApprovalEngine } from '@tenantry/approvals';
import { MemoryApprovalStore } from '@tenantry/approvals/memory';
import { MemoryAuditPort, isTenantryError, requireTenant, runAsTenant } from '@tenantry/core';
import { Delete, Get, Post } from '@nestjs/common';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RequiresApproval, TenancyApprovalsModule } from '../src/index.js';
import { type NestTestApp, type Platform, bearer, buildNestApp, controller, mint } from './helpers.js';

describe.each(['express', 'fastify'] as Platform[])('approvals through Nest on %s', (platform) => {
  const items = new Map<string, Set<string>>([
    ['acme', new Set(['42', '43', '44'])],
    ['globex', new Set(['42'])],
  ]);
  const locked = new Set<string>();
  const executions: Array<{ tenantId: string; id: string; payload: unknown }> = [];
  let handlerRuns = 0;
  const engine = createApprovalEngine({ store: new MemoryApprovalStore(), audit: new MemoryAuditPort() });
  engine.registerResource('item', {
    lock: ({ tenantId, resource }) => void locked.add(`${tenantId}/${resource.id}`),
    unlock: ({ tenantId, resource }) => void locked.delete(`${tenantId}/${resource.id}`),
  });
  engine.registerAction('item.delete', {
    execute: ({ tenantId, request: r }) => {
      executions.push({ tenantId, id: r.resource.id, payload: r.payload });
      items.get(tenantId)?.delete(r.resource.id);
    },
  });
  const Items = controller('ops/items', {
    remove: {
      decorators: [Delete(':id'), RequiresApproval({ action: 'item.delete', resource: 'item' })],
      handler: (() => {
        handlerRuns++;
        return { deleted: true };
      }) as never,
    },
    purge: {
      decorators: [
        Post(':id/purge'),
        RequiresApproval({
          action: 'item.delete',
          resource: (req) => ({ type: 'item', id: String(req.params.id) }),
          justification: (req) => req.header('x-why'),
          payload: (req) => ({ purge: req.params.id }),
        }),
      ],
      handler: (() => {
        handlerRuns++;
      }) as never,
    },
    list: {
      decorators: [Get()],
      handler: (() => [...(items.get(requireTenant().tenantId) ?? [])]) as never,
    },
  });

  let t: NestTestApp;
  const server = () => t.app.getHttpServer();
  const maker = () => mint({ tenantId: 'acme', sub: 'mo', roles: ['OPERATOR'] });
  const manager = (sub: string, tenantId = 'acme') => mint({ tenantId, sub, roles: ['MANAGER'] });

  beforeAll(async () => {
    for (const tenantId of ['acme', 'globex']) {
      await runAsTenant({ tenantId, actor: { id: 'ada', roles: ['TENANT_ADMIN'] } }, () =>
        engine.setPolicies({
          policies: [{ action: 'item.delete', approvalsRequired: 1, approverRoles: ['MANAGER'] }],
        }),
      );
    }
    t = await buildNestApp(
      platform,
      {},
      { imports: [TenancyApprovalsModule.forRoot({ engine })], controllers: [Items] },
    );
  });
  afterAll(() => t.close());

  async function ask(id: string): Promise<{ location: string; requestId: string }> {
    const res = await request(server())
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

  it('a marked handler asks instead of running; a second person approves and the action runs once', async () => {
    const { location, requestId } = await ask('42');
    expect(executions).toEqual([]);
    expect(handlerRuns).toBe(0);
    expect(locked.has('acme/42')).toBe(true);
    // The request was audited as a mutating request answered 202, by the maker.
    await new Promise((r) => setTimeout(r, 20));
    expect(
      t.audit.events.some(
        (e) =>
          e.tenantId === 'acme' &&
          e.actor.id === 'mo' &&
          (e.metadata as { status?: number } | undefined)?.status === 202,
      ),
    ).toBe(true);

    const self = await request(server())
      .post(`${location}/approve`)
      .set(bearer(await maker()))
      .send({});
    expect([self.status, self.body.code]).toEqual([403, 'APPROVAL_SELF_APPROVAL']);

    const foreign = bearer(await manager('gus', 'globex'));
    expect((await request(server()).get(location).set(foreign)).body.code).toBe('APPROVAL_NOT_FOUND');
    const foreignApprove = await request(server()).post(`${location}/approve`).set(foreign).send({});
    expect([foreignApprove.status, foreignApprove.body.code]).toEqual([404, 'APPROVAL_NOT_FOUND']);
    expect((await request(server()).get('/ops/approvals/inbox').set(foreign)).body.items).toEqual([]);

    const alice = bearer(await manager('alice'));
    const inbox = await request(server()).get('/ops/approvals/inbox').set(alice);
    expect(inbox.status).toBe(200);
    expect(inbox.body.items.map((r: { id: string }) => r.id)).toEqual([requestId]);
    const history = await request(server())
      .get('/ops/approvals')
      .query({ resourceType: 'item', resourceId: '42' })
      .set(alice);
    expect(history.body.items.map((r: { id: string; status: string }) => [r.id, r.status])).toEqual([
      [requestId, 'PENDING'],
    ]);

    const bob = bearer(await manager('bob'));
    const [a, b] = await Promise.all([
      request(server()).post(`${location}/approve`).set(alice).send({ comment: 'checked' }),
      request(server()).post(`${location}/approve`).set(bob).send({}),
    ]);
    expect([a.status, b.status].sort()).toEqual([200, 409]);
    expect([a, b].find((r) => r.status === 200)?.body.status).toBe('EXECUTED');
    expect(executions).toEqual([
      { tenantId: 'acme', id: '42', payload: { params: { id: '42' }, body: null } },
    ]);
    expect(items.get('acme')?.has('42')).toBe(false);
    expect(items.get('globex')?.has('42')).toBe(true);
    expect(handlerRuns).toBe(0);
    const done = await request(server()).get(location).set(alice);
    expect(done.body.history.map((h: { type: string }) => h.type)).toEqual([
      'requested',
      'approved',
      'executed',
    ]);
  });

  it('a rejected request never runs and releases the lock; custom resource, justification and payload', async () => {
    const res = await request(server())
      .post('/ops/items/43/purge')
      .set(bearer(await maker()))
      .set('x-why', 'gone');
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ justification: 'gone', payload: { purge: '43' } });
    expect(locked.has('acme/43')).toBe(true);
    const rejected = await request(server())
      .post(`${res.headers.location}/reject`)
      .set(bearer(await manager('alice')))
      .send({ comment: 'keep it' });
    expect([rejected.status, rejected.body.status]).toEqual([200, 'REJECTED']);
    expect(locked.has('acme/43')).toBe(false);
    const late = await request(server())
      .post(`${res.headers.location}/approve`)
      .set(bearer(await manager('bob')))
      .send({});
    expect(late.status).toBe(409);
    expect(executions.filter((e) => e.id === '43')).toEqual([]);
  });

  it('shows payloads with secret-named keys masked; the handler gets them whole', async () => {
    const body = { reason: 'sold', api_key: 'ak-secret' };
    const res = await request(server())
      .delete('/ops/items/44')
      .set(bearer(await maker()))
      .set('x-approval-justification', 'sold')
      .send(body);
    expect(res.status).toBe(202);
    const alice = bearer(await manager('alice'));
    const shown = (
      await request(server())
        .get(res.headers.location as string)
        .set(alice)
    ).body;
    expect(shown.payload).toEqual({ params: { id: '44' }, body: { reason: 'sold', api_key: '[MASKED]' } });
    const approved = await request(server()).post(`${res.headers.location}/approve`).set(alice).send({});
    for (const v of [res.body, shown, approved.body]) expect(JSON.stringify(v)).not.toContain('ak-secret');
    expect(executions.find((e) => e.id === '44')?.payload).toEqual({ params: { id: '44' }, body });
  });

  it('refuses a request without justification, and malformed ids and queries, with 400 problems', async () => {
    const none = await request(server())
      .delete('/ops/items/44')
      .set(bearer(await maker()));
    expect([none.status, none.body.code]).toEqual([400, 'VALIDATION_FAILED']);
    expect(none.headers['content-type']).toMatch(/problem\+json/);
    const alice = bearer(await manager('alice'));
    const badId = await request(server()).post('/ops/approvals/not-a-uuid/approve').set(alice).send({});
    expect(badId.status).toBe(400);
    expect((await request(server()).get('/ops/approvals').query({ limit: 'x' }).set(alice)).status).toBe(400);
    expect(
      (await request(server()).get('/ops/approvals').query({ resourceType: 'item' }).set(alice)).status,
    ).toBe(400);
    expect(locked.has('acme/44')).toBe(false);
    expect(handlerRuns).toBe(0);
  });
});

describe('@RequiresApproval() and TenancyApprovalsModule options', () => {
  it('refuse malformed specs and engines with VALIDATION_FAILED', () => {
    const code = (fn: () => unknown) => {
      try {
        fn();
      } catch (e) {
        return isTenantryError(e) ? e.code : 'untyped';
      }
      return undefined;
    };
    for (const bad of [
      undefined,
      null,
      {},
      { action: '', resource: 'x' },
      { action: 'a', resource: 1 },
      { action: 'a', resource: 'x', payload: 1 },
    ]) {
      expect(code(() => RequiresApproval(bad as never))).toBe('VALIDATION_FAILED');
    }
    for (const bad of [
      undefined,
      {},
      { engine: {} },
      {
        engine: createApprovalEngine({ store: new MemoryApprovalStore(), audit: new MemoryAuditPort() }),
        basePath: 'x',
      },
    ]) {
      expect(code(() => TenancyApprovalsModule.forRoot(bad as never))).toBe('VALIDATION_FAILED');
    }
  });
});
