/**
 * Lua scripts of the Redis backend. Every script touches only keys of one counter, which all share the
 * hash tag `{tenant:series}`, so each runs on one Redis Cluster slot.
 * Mark hash fields: m = mark ('' before the first), f = fence counter / highest fence seen, d = latest issue date.
 * @internal
 */
export const SCRIPTS = {
  // KEYS: lock, mark. ARGV: lock value, ttlMs. -> {fence, mark, date} or {0, pttl}
  // The mark hash's `f` field is both the fence counter and the highest fence seen: taking the lock
  // fences off every older holder at once.
  acquireRead: `
if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return {0, redis.call('PTTL', KEYS[1])} end
local f = redis.call('HINCRBY', KEYS[2], 'f', 1)
local md = redis.call('HMGET', KEYS[2], 'm', 'd')
return {f, md[1] or '', md[2] or ''}`,
  // KEYS: lock, mark. ARGV: lock value, ttlMs. -> {fence} or {0, pttl}
  acquire: `
if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return {0, redis.call('PTTL', KEYS[1])} end
return {redis.call('HINCRBY', KEYS[2], 'f', 1)}`,
  // KEYS: lock. ARGV: value, ttlMs.
  renew: `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`,
  // KEYS: lock, mark. ARGV: value, above. -> new fence, or 0 when the lock is not held by `value`.
  // Raises the fence counter above `above` (what a counter store elsewhere has seen) in one step.
  reseed: `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
local f = tonumber(redis.call('HGET', KEYS[2], 'f') or '0')
local a = tonumber(ARGV[2])
if a > f then f = a end
f = f + 1
redis.call('HSET', KEYS[2], 'f', f)
return f`,
  // KEYS: lock. ARGV: value.
  release: `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`,
  // KEYS: mark. ARGV: fence. -> {1, mark, date} or {-1, seen}
  read: `
local seen = tonumber(redis.call('HGET', KEYS[1], 'f') or '0')
if tonumber(ARGV[1]) < seen then return {-1, seen} end
redis.call('HSET', KEYS[1], 'f', ARGV[1])
return {1, redis.call('HGET', KEYS[1], 'm') or '', redis.call('HGET', KEYS[1], 'd') or ''}`,
  // KEYS: mark. ARGV: from ('' = none), to, fence, date ('' = none). -> 1 ok, -1 fenced, -2 conflict
  advance: `
local seen = tonumber(redis.call('HGET', KEYS[1], 'f') or '0')
if tonumber(ARGV[3]) < seen then return -1 end
if (redis.call('HGET', KEYS[1], 'm') or '') ~= ARGV[1] then return -2 end
redis.call('HSET', KEYS[1], 'm', ARGV[2], 'f', ARGV[3])
if ARGV[4] ~= '' and ARGV[4] > (redis.call('HGET', KEYS[1], 'd') or '') then redis.call('HSET', KEYS[1], 'd', ARGV[4]) end
return 1`,
  // KEYS: lock, mark. ARGV: lock value, from, to, fence, date. -> 1 ok, -3 lock lost, -1 fenced, -2 conflict
  advanceRelease: `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -3 end
local fmd = redis.call('HMGET', KEYS[2], 'f', 'm', 'd')
if tonumber(ARGV[4]) < tonumber(fmd[1] or '0') then return -1 end
if (fmd[2] or '') ~= ARGV[2] then return -2 end
if ARGV[5] ~= '' and ARGV[5] > (fmd[3] or '') then
  redis.call('HSET', KEYS[2], 'm', ARGV[3], 'd', ARGV[5])
else
  redis.call('HSET', KEYS[2], 'm', ARGV[3])
end
redis.call('DEL', KEYS[1])
return 1`,
  // KEYS: lock, mark. ARGV: lock value, from, to, fence, date, ttlMs.
  // -> {1, mark, date} ok (lock kept, its TTL reset), {-3} lock lost, {-1} fenced, {-2} conflict
  advanceKeep: `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return {-3} end
local fmd = redis.call('HMGET', KEYS[2], 'f', 'm', 'd')
if tonumber(ARGV[4]) < tonumber(fmd[1] or '0') then return {-1} end
if (fmd[2] or '') ~= ARGV[2] then return {-2} end
local d = fmd[3] or ''
if ARGV[5] ~= '' and ARGV[5] > d then
  d = ARGV[5]
  redis.call('HSET', KEYS[2], 'm', ARGV[3], 'd', d)
else
  redis.call('HSET', KEYS[2], 'm', ARGV[3])
end
redis.call('PEXPIRE', KEYS[1], ARGV[6])
return {1, ARGV[3], d}`,
  // KEYS: mark. ARGV: committed ('' = none), fence. -> {1, mark, date} or {-1}
  recover: `
local seen = tonumber(redis.call('HGET', KEYS[1], 'f') or '0')
if tonumber(ARGV[2]) < seen then return {-1} end
redis.call('HSET', KEYS[1], 'f', ARGV[2])
local m = redis.call('HGET', KEYS[1], 'm') or ''
if ARGV[1] ~= '' and (m == '' or tonumber(ARGV[1]) > tonumber(m)) then
  m = ARGV[1]
  redis.call('HSET', KEYS[1], 'm', m)
end
return {1, m, redis.call('HGET', KEYS[1], 'd') or ''}`,
  // KEYS: mark, voids. ARGV: number, start, record json. -> 1 ok, -1 not issued, -2 already voided
  recordVoid: `
local m = redis.call('HGET', KEYS[1], 'm')
local n = tonumber(ARGV[1])
if not m or n < tonumber(ARGV[2]) or n > tonumber(m) then return -1 end
if redis.call('HSETNX', KEYS[2], ARGV[1], ARGV[3]) == 0 then return -2 end
return 1`,
  // KEYS: mark. -> {mark, date}
  peek: `return {redis.call('HGET', KEYS[1], 'm') or '', redis.call('HGET', KEYS[1], 'd') or ''}`,
  // KEYS: voids. -> flat field/value list
  listVoids: `return redis.call('HGETALL', KEYS[1])`,
} as const;
