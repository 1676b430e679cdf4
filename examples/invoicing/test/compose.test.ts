import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ENV_VARS } from '../src/config.js';
import { APP_ROLE } from '../src/schema.js';

// No Docker engine runs here: the compose file is checked by parsing it.
const file = fileURLToPath(new URL('../docker-compose.yml', import.meta.url));
interface Service {
  environment?: Record<string, string>;
  healthcheck?: { test: unknown };
  depends_on?: Record<string, { condition: string }>;
  volumes?: string[];
}
const compose = parse(readFileSync(file, 'utf8')) as { services: Record<string, Service> };
const appSource = ['config.ts', 'database.ts', 'services.ts', 'app.ts', 'main.ts']
  .map((f) => readFileSync(fileURLToPath(new URL(`../src/${f}`, import.meta.url)), 'utf8'))
  .join('\n');

describe('docker-compose.yml', () => {
  it('has the app, PostgreSQL, Redis and an S3-compatible store, each with a health check', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['app', 'objects', 'postgres', 'redis']);
    for (const [name, service] of Object.entries(compose.services)) {
      expect(service.healthcheck?.test, `${name} health check`).toBeDefined();
    }
    expect(compose.services.app!.depends_on).toEqual({
      postgres: { condition: 'service_healthy' },
      redis: { condition: 'service_healthy' },
      objects: { condition: 'service_healthy' },
    });
  });

  it('sets only variables the app reads, and the app reads each of them', () => {
    const set = Object.keys(compose.services.app!.environment ?? {});
    expect(set.length).toBeGreaterThan(5);
    for (const name of set) {
      expect(Object.keys(ENV_VARS), `${name} is not one of the app's variables`).toContain(name);
      // Read by loadConfig: `env.NAME` appears in the source.
      expect(appSource, `${name} is never read`).toContain(`env.${name}`);
    }
  });

  it('points the app at the services it declares', () => {
    const env = compose.services.app!.environment!;
    expect(new URL(env.DATABASE_URL!.replace(/\$\{[^}]+\}/g, 'x')).host).toBe('postgres:5432');
    // The tenant pool logs in as a role that postgres-init creates as a member of invoicing_app.
    const app = new URL(env.DATABASE_APP_URL!.replace(/\$\{[^}]+\}/g, 'x'));
    expect(app.host).toBe('postgres:5432');
    expect(app.username).not.toBe(new URL(env.DATABASE_URL!.replace(/\$\{[^}]+\}/g, 'x')).username);
    const init = readFileSync(
      fileURLToPath(new URL('../postgres-init/10-app-role.sh', import.meta.url)),
      'utf8',
    );
    expect(init).toMatch(
      new RegExp(`CREATE ROLE ${app.username} LOGIN NOSUPERUSER NOBYPASSRLS[^;]*IN ROLE ${APP_ROLE}`),
    );
    expect(compose.services.postgres!.volumes).toContain('./postgres-init:/docker-entrypoint-initdb.d:ro');
    expect(new URL(env.REDIS_URL!).host).toBe('redis:6379');
    expect(new URL(env.S3_ENDPOINT!).host).toBe('objects:9000');
  });
});
