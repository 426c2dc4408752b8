-- admin: what clients see of the keyspace without the companions, and
-- the purge. ARGV[4] is 'dbsize', 'randomkey' or 'purge'.
local op = ARGV[4]
if op == 'dbsize' then
  return { '', 0, redis.call('dbsize') - redis.call('exists', V, T) }
end
if op == 'randomkey' then
  for _ = 1, 32 do
    local k = redis.call('randomkey')
    if k == false or (k ~= V and k ~= T) then return { '', 0, k } end
  end
  -- Unlucky or (nearly) only companions: walk the keyspace.
  local cursor = '0'
  repeat
    local page = redis.call('scan', cursor, 'count', 100)
    cursor = page[1]
    for _, k in ipairs(page[2]) do
      if k ~= V and k ~= T then return { '', 0, k } end
    end
  until cursor == '0'
  return { '', 0, false }
end
-- purge: ARGV[5] and ARGV[6] are HSCAN cursors in T and V, ARGV[7] the
-- COUNT. Drops tombstones past their deadline and versions of keys that
-- no longer exist (expired, or deleted without a version); answers the
-- next cursors and how many of each it dropped.
local count = ARGV[7]
local page = redis.call('hscan', T, ARGV[5], 'count', count)
local nt = 0
for i = 1, #page[2], 2 do
  if hexLess(string.sub(page[2][i + 1], 1, 16), now, 16) then
    redis.call('hdel', T, page[2][i])
    nt = nt + 1
  end
end
local vpage = redis.call('hscan', V, ARGV[6], 'count', count)
local nv = 0
for i = 1, #vpage[2], 2 do
  if not exists(vpage[2][i]) then
    redis.call('hdel', V, vpage[2][i])
    nv = nv + 1
  end
end
return { '', 0, { page[1], vpage[1], nt, nv } }
