import { type Actor, parseInput, runAsSystem, runAsTenant } from '@tenantry/core';
import { SignJWT } from 'jose';
import { z } from 'zod';
import { InvoicingError } from './errors.js';
import { DUMMY_HASH, verifyPassword } from './passwords.js';
import type { Services } from './services.js';

/** Who signs the app's tokens and who they are for: the adapter verifies exactly these. */
export const TOKEN_ISSUER = 'tenantry-invoicing';
export const TOKEN_AUDIENCE = 'invoicing-console';
const SESSION_SECONDS = 8 * 3600;

export const SignInSchema = z.object({
  email: z.string().trim().toLowerCase().max(320),
  password: z.string().max(1024),
});

export interface AppUser {
  id: string;
  email: string;
  name: string;
  tenantId: string | null;
  partnerId: string | null;
  roles: string[];
}

const toUser = (r: Record<string, unknown>): AppUser => ({
  id: String(r.id),
  email: String(r.email),
  name: String(r.name),
  tenantId: (r.tenant_id as string | null) ?? null,
  partnerId: (r.partner_id as string | null) ?? null,
  roles: r.roles as string[],
});

export function createAuth(s: Services) {
  const key = new TextEncoder().encode(s.config.jwtSecret);

  async function sign(user: AppUser, impersonator?: Actor, expiresAt?: Date): Promise<string> {
    const jwt = new SignJWT({
      roles: user.roles,
      actor_kind: 'user',
      name: user.name,
      ...(user.tenantId ? { tenant_id: user.tenantId } : {}),
      ...(impersonator ? { act: { sub: impersonator.id, roles: [...impersonator.roles] } } : {}),
    })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(user.id)
      .setIssuer(TOKEN_ISSUER)
      .setAudience(TOKEN_AUDIENCE)
      .setIssuedAt();
    return expiresAt
      ? jwt.setExpirationTime(Math.floor(expiresAt.getTime() / 1000)).sign(key)
      : jwt.setExpirationTime(`${SESSION_SECONDS}s`).sign(key);
  }

  return {
    /** The adapter's verification settings for these tokens. */
    verifierOptions: {
      key: { secret: s.config.jwtSecret },
      issuer: TOKEN_ISSUER,
      audience: TOKEN_AUDIENCE,
    },
    async findUser(id: string): Promise<AppUser | null> {
      const r = await s.pool.query(
        'SELECT id, email, name, tenant_id, partner_id, roles FROM app_users WHERE id = $1',
        [id],
      );
      return r.rows[0] ? toUser(r.rows[0]) : null;
    },
    async usersOf(tenantId: string): Promise<AppUser[]> {
      const r = await s.pool.query(
        'SELECT id, email, name, tenant_id, partner_id, roles FROM app_users WHERE tenant_id = $1 ORDER BY email',
        [tenantId],
      );
      return r.rows.map(toUser);
    },
    /**
     * Check email and password, then the tenant's state (a suspended or archived tenant cannot sign
     * in: the gatekeeper's code, e.g. `TENANT_SUSPENDED`). Failures are counted per account by the
     * adapter's `signInLockout` on the route.
     * @throws InvoicingError `INVOICING_BAD_CREDENTIALS`; GatekeeperError `TENANT_SUSPENDED`, `TENANT_ARCHIVED`, …
     */
    async signIn(input: unknown): Promise<{ token: string; user: AppUser }> {
      const { email, password } = parseInput(SignInSchema, input, 'sign-in');
      const r = await s.pool.query(
        'SELECT id, email, name, tenant_id, partner_id, roles, password_hash FROM app_users WHERE email = $1',
        [email],
      );
      const row = r.rows[0] as (Record<string, unknown> & { password_hash: string }) | undefined;
      const ok = await verifyPassword(password, row?.password_hash ?? DUMMY_HASH);
      if (!row || !ok) throw new InvoicingError('INVOICING_BAD_CREDENTIALS', 'Wrong email or password');
      const user = toUser(row);
      if (user.tenantId) {
        await runAsTenant({ tenantId: user.tenantId, actor: { id: user.id, roles: user.roles } }, () =>
          s.gatekeeper.assert({ access: 'read' }),
        );
      }
      return { token: await sign(user), user };
    },
    /**
     * Support enters a tenant as one of its users: needs a reason, is time-limited, is audited naming
     * both people (core's impersonation, in the audited system scope), and notifies the tenant.
     * The token carries the support person in `act`, so every later event names both.
     */
    async impersonate(support: Actor, input: { tenantId: string; userId: string; reason: string }) {
      const target = await this.findUser(input.userId);
      if (!target || target.tenantId !== input.tenantId)
        throw new InvoicingError('INVOICING_NOT_FOUND', 'No such user in that tenant');
      const session = await runAsSystem(
        { actor: support, reason: `impersonation: ${input.reason}` },
        s.audit.port,
        () =>
          s.impersonation.start({
            support,
            tenantId: input.tenantId,
            target: { id: target.id, roles: target.roles },
            reason: input.reason,
            durationMs: 30 * 60_000,
          }),
      );
      return { token: await sign(target, support, session.expiresAt), session };
    },
  };
}
export type Auth = ReturnType<typeof createAuth>;
