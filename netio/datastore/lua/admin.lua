-- admin: what clients see of the keyspace without the companions,
-- anti-entropy's listings and data marker, and the purge. ARGV[4] is
-- 'dbsize', 'randomkey', 'keys', 'versions', 'mark' or 'purge'. None of
-- them but the mark (its marker) and the purge writes.
local op = ARGV[4]
if op == 'dbsize' then
  return { '', 0, redis.call('dbsize') - redis.call('exists', V, T, M) }
end
if op == 'randomkey' then
  for _ = 1, 32 do
    local k = redis.call('randomkey')
    if k == false or not companion(k) then return { '', 0, k } end
  end
  -- Unlucky or (nearly) only companions: walk the keyspace.
  local cursor = '0'
  repeat
    local page = redis.call('scan', cursor, 'count', 100)
    cursor = page[1]
    for _, k in ipairs(page[2]) do
      if not companion(k) then return { '', 0, k } end
    end
  until cursor == '0'
  return { '', 0, false }
end
-- keys (DYNO.KEYS): ARGV[5] is the hash to scan ('v': V, 't': T), ARGV[6]
-- its HSCAN cursor, ARGV[7] the COUNT. Lists each version of a key that
-- exists and each tombstone of a key that does not, before its deadline
-- (its version alone), as the hashes hold them (an 'r' kept). Once V is
-- done, T's scan starts in the same call. Answers {next cursor, {key,
-- version, ...}}: the hash's letter and HSCAN's cursor, '0' when T is done.
if op == 'keys' then
  local phase, cursor, count = ARGV[5], ARGV[6], ARGV[7]
  local out = {}
  while true do
    local h = V
    if phase == 't' then h = T end
    local page = redis.call('hscan', h, cursor, 'count', count)
    local kv = page[2]
    for i = 1, #kv, 2 do
      local k, v = kv[i], kv[i + 1]
      if phase == 'v' then
        if exists(k) then
          out[#out + 1] = k
          out[#out + 1] = v
        end
      elseif not hexLess(string.sub(v, 1, 16), now, 16) and not exists(k) then
        out[#out + 1] = k
        out[#out + 1] = string.sub(v, 17)
      end
    end
    cursor = page[1]
    if cursor ~= '0' then return { '', 0, { phase .. cursor, out } } end
    if phase == 't' then return { '', 0, { '0', out } } end
    phase = 't'
  end
end
-- versions (DYNO.VERSIONS): ARGV[5..] are keys. Answers each one's
-- version as current sees it ('' for none), an 'r' kept, dropping nothing.
if op == 'versions' then
  local out = {}
  for i = 5, #ARGV do
    local k, v = ARGV[i], ''
    if exists(k) then
      v = redis.call('hget', V, k) or ''
    else
      local t = redis.call('hget', T, k)
      if t and not hexLess(string.sub(t, 1, 16), now, 16) then v = string.sub(t, 17) end
    end
    out[#out + 1] = v
  end
  return { '', 0, out }
end
-- mark (DYNO.MARK): ARGV[5] is the caller's marker. Answers the marker M
-- held ('' for none) and, when it held none, makes ARGV[5] the marker
-- (an empty one would read as none: not set). Read and set in one script,
-- so of two callers on an unmarked datastore exactly one is answered ''.
if op == 'mark' then
  local old = redis.call('get', M) or ''
  if old == '' and ARGV[5] ~= '' then redis.call('set', M, ARGV[5]) end
  return { '', 0, old }
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
