import { describe, expect, it } from 'vitest';
import { isTenantryError } from '../src/index.js';
import { createTenantUnitOfWork } from '../src/postgres.js';

describe('createTenantUnitOfWork argument', () => {
  it('a Kysely/Drizzle database or postgres.js sql given without its adapter is VALIDATION_FAILED naming fromKysely, fromDrizzle, fromPostgresJs', () => {
    const kyselyLike = {
      selectFrom: () => undefined,
      transaction: () => undefined,
      destroy: () => undefined,
    };
    const postgresJsLike = Object.assign(() => undefined, {
      unsafe: () => undefined,
      begin: () => undefined,
    });
    for (const given of [kyselyLike, postgresJsLike, undefined, null, 42]) {
      let caught: unknown;
      try {
        createTenantUnitOfWork(given as never);
      } catch (e) {
        caught = e;
      }
      expect(isTenantryError(caught, 'VALIDATION_FAILED')).toBe(true);
      expect((caught as Error).message).toMatch(/fromKysely.*fromDrizzle.*fromPostgresJs/);
    }
  });
});
