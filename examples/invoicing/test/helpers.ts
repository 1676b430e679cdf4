import { expect } from 'vitest';
import type { RunningApp } from '../src/app.js';
import { DEMO_PASSWORD } from '../src/seed.js';

/** A JSON client of the app over real HTTP, signed in as one user. */
export class ApiClient {
  constructor(
    readonly base: string,
    readonly token: string,
  ) {}

  static async signIn(app: RunningApp | string, email: string, password = DEMO_PASSWORD): Promise<ApiClient> {
    const base = typeof app === 'string' ? app : app.url;
    const res = await fetch(`${base}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, password }),
    });
    const body = (await res.json()) as { token?: string; code?: string };
    if (res.status !== 200 || !body.token)
      throw new Error(`sign-in of ${email} failed: ${res.status} ${body.code}`);
    return new ApiClient(base, body.token);
  }

  async call<T = unknown>(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: T; headers: Headers }> {
    const res = await fetch(`${this.base}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${this.token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T, headers: res.headers };
  }

  async ok<T = unknown>(method: string, path: string, body?: unknown, status = 200): Promise<T> {
    const r = await this.call<T>(method, path, body);
    expect(r.status, `${method} ${path}: ${JSON.stringify(r.body)}`).toBe(status);
    return r.body;
  }
}

/** Sign-in attempt returning status and problem code. */
export async function trySignIn(
  base: string,
  email: string,
  password: string,
): Promise<{ status: number; code?: string }> {
  const res = await fetch(`${base}/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password }),
  });
  const body = (await res.json()) as { code?: string };
  return { status: res.status, ...(body.code ? { code: body.code } : {}) };
}
