-- dynonode: plain SET key value on Redis with versions, without the
-- prelude (netio/datastore/versions.go): the write every cache sends, made
-- as cheap as versions allow (HGET, SET, HSET for a key that has a
-- version; one HGET more for one that has none; of the prelude only the
-- comparison, copied below). KEYS[1] is the version hash, KEYS[2] the
-- tombstone hash;
-- ARGV[1] the write's version, ARGV[2] now (16 hex digits of Unix ms),
-- ARGV[3] the key, ARGV[4] the value. It answers the version the key
-- holds after it, after '=' when the SET was stale and changed nothing (a
-- table reply costs Redis more than the whole rest): the client's reply
-- is OK either way.
--
-- Versions are compared as prelude.lua's less does: by their first 24
-- characters (lower-case hex digits of equal width: Lua's < on them is
-- byte order in every locale, digits before letters), then by node id,
-- byte by byte (Lua's < on arbitrary bytes would follow the locale).
local V, T, ver, k = KEYS[1], KEYS[2], ARGV[1], ARGV[3]
local sub = string.sub

-- stale: the key holds version o (a key's or its tombstone's) that is
-- as new as ver or newer.
local function stale(o)
  local po, pv = sub(o, 1, 24), sub(ver, 1, 24)
  if po ~= pv then return pv < po end
  if o == ver then return true end
  local no, nv = sub(o, 25), sub(ver, 25)
  for i = 1, math.min(#no, #nv) do
    local x, y = string.byte(no, i), string.byte(nv, i)
    if x ~= y then return y < x end
  end
  return #nv < #no
end

local o = redis.call('hget', V, k)
if o then
  -- A key with a version has no tombstone (stamps and burials keep the
  -- two hashes apart); its version counts while it exists. An 'r' marks
  -- a version written in place (read-modify-write).
  if sub(o, 1, 1) == 'r' then o = sub(o, 2) end
  if stale(o) and redis.call('exists', k) == 1 then return '=' .. o end
else
  local t = redis.call('hget', T, k)
  if t then
    -- deadline (16 hex digits of ms) then version; a tombstone counts
    -- until its deadline.
    -- A tombstone counts while its key does not exist (a write without a
    -- version may have made it again) and its deadline has not passed.
    if sub(t, 1, 16) >= ARGV[2] then
      local tv = sub(t, 17)
      if stale(tv) and redis.call('exists', k) == 0 then return '=' .. tv end
    end
    redis.call('hdel', T, k)
  end
end
redis.call('set', k, ARGV[4])
redis.call('hset', V, k, ver)
return ver
