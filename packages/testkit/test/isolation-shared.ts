// Shared body of the two isolation test files: each records its database and key prefix in a
// run-wide Redis hash, then checks that it differs from every other file's, and that it cannot see
// the marker the other file left in its own database or under its own prefix.
import { Redis } from 'ioredis';
import pg from 'pg';
import { expect, it } from 'vitest';
import { useRedisPrefix, useTestDatabase } from '../src/index.js';

export function isolationSuite(fileTag: string): void {
  const db = useTestDatabase();
  const redisNs = useRedisPrefix();

  it(`${fileTag}: gets its own fresh database and key prefix, unseen by the other file`, async () => {
    const client = new pg.Client({ connectionString: db.url() });
    const redis = new Redis(redisNs.url());
    await client.connect();
    try {
      const { rows } = await client.query<{ db: string; tables: string }>(
        "SELECT current_database() AS db, (SELECT count(*) FROM pg_tables WHERE schemaname = 'public')::text AS tables",
      );
      expect(rows[0]).toEqual({ db: db.name(), tables: '0' });
      await client.query(`CREATE TABLE marker_${fileTag} (id int)`);
      await redis.set(`${redisNs.prefix()}marker`, fileTag);

      const registry = `tk_registry:${process.env.TENANTRY_RUN_ID}`;
      await redis.hset(registry, fileTag, JSON.stringify({ db: db.name(), prefix: redisNs.prefix() }));
      await redis.expire(registry, 600);
      const all = Object.entries(await redis.hgetall(registry)).map(([tag, v]) => ({
        tag,
        ...(JSON.parse(v) as { db: string; prefix: string }),
      }));
      for (const other of all.filter((e) => e.tag !== fileTag)) {
        expect(other.db).not.toBe(db.name());
        expect(other.prefix).not.toBe(redisNs.prefix());
        // The other file's marker is in its database, not ours; its key is under its prefix, not ours.
        const seen = await client.query('SELECT to_regclass($1) AS t', [`marker_${other.tag}`]);
        expect(seen.rows[0].t).toBeNull();
        expect(await redis.get(`${redisNs.prefix()}marker`)).toBe(fileTag);
      }
    } finally {
      await client.end();
      redis.disconnect();
    }
  });
}
