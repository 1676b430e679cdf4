import { describe, expect, it } from 'vitest';
import { decodeRequest, encodeBody } from '../src/backends/postgres/row-codec.js';
import { decidersOf } from '../src/request.js';
import type { ApprovalRequest, HistoryEntry } from '../src/request.js';

const at = '2026-11-30T12:00:00.000Z';
const h = (type: HistoryEntry['type'], actorId?: string): HistoryEntry => ({
  type,
  at,
  ...(actorId ? { actorId, roles: ['MANAGER'] } : {}),
});
const request: ApprovalRequest = {
  id: '019a0000-0000-7000-8000-000000000001',
  tenantId: 't1',
  action: 'asset.delete',
  resource: { type: 'asset', id: 'a1' },
  makerId: 'maker',
  makerRoles: ['OPERATOR'],
  justification: 'why',
  payload: { n: 1, list: ['x'] },
  rules: { version: 3, policy: null, bypass: { enabled: false, roles: ['SUPER_ADMIN'], allowMaker: false } },
  approvalState: 'PENDING',
  executionState: 'NONE',
  approvals: ['carol', 'alice'],
  createdAt: at,
  updatedAt: at,
  expiresAt: at,
  history: [
    h('requested', 'maker'),
    h('approved', 'carol'),
    h('rejected', 'alice'),
    h('approved', 'carol'),
    h('expired'),
    h('executed', 'bob'),
    h('bypassed', 'dan'),
  ],
  attempts: 0,
  locked: true,
  unlockPending: false,
  version: 5,
};

describe('PostgreSQL row codec', () => {
  it('stores the body without its version (the column is the truth) and reads the version from the column', () => {
    const body = encodeBody(request);
    const parsed = JSON.parse(body) as Record<string, unknown>;
    expect('version' in parsed).toBe(false);
    const { version: _v, ...rest } = request;
    expect(body).toBe(JSON.stringify(rest));
    expect(decodeRequest({ body, version: 9 })).toEqual({ ...request, version: 9 });
    // A driver that hands back the body as an object (jsonb) is read alike, and its object left as it was.
    const fromDriver = JSON.parse(body) as Record<string, unknown>;
    expect(decodeRequest({ body: fromDriver, version: 2 })).toEqual({ ...request, version: 2 });
    expect('version' in fromDriver).toBe(false);
  });

  it('lists the people who decided (approved, rejected, bypassed) once each, in order', () => {
    expect(decidersOf(request)).toEqual(['carol', 'alice', 'dan']);
    expect(decidersOf({ ...request, history: [h('requested', 'maker'), h('expired')] })).toEqual([]);
  });
});
