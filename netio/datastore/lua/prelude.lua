-- dynonode: versions on Redis (netio/datastore/versions.go, docs/cluster.md).
-- KEYS[1] is the version hash (__dyno:v: key -> version), KEYS[2] the
-- tombstone hash (__dyno:t: key -> deadline .. version), KEYS[3] the
-- data marker (__dyno:m, a string: see admin's mark). ARGV[1] is the
-- command's version, ARGV[2] now and ARGV[3] the deadline of a tombstone
-- made now (16 hex digits of Unix ms each). A version is 16 hex digits of
-- HLC wall time, 8 of logical time, then the node id; '' is none.
-- Every script answers {version after, fix, reply}: fix 1 says the reply
-- is a null array, 2 that it is an integer too large for Lua's numbers,
-- given as its decimal string.
local V, T, M = KEYS[1], KEYS[2], KEYS[3]
local ver, now, tombUntil = ARGV[1], ARGV[2], ARGV[3]

-- companion reports whether k names one of the companions.
local function companion(k) return k == V or k == T or k == M end

-- hexLess compares n digits of two hex strings by 8-digit chunks, exactly
-- (Lua's < on strings follows the server's locale).
local function hexLess(a, b, n)
  for i = 1, n, 8 do
    local x, y = tonumber(string.sub(a, i, i + 7), 16), tonumber(string.sub(b, i, i + 7), 16)
    if x ~= y then return x < y end
  end
  return false
end

-- less reports whether version a is older than b.
local function less(a, b)
  if a == b or b == '' then return false end
  if a == '' then return true end
  if string.sub(a, 1, 24) ~= string.sub(b, 1, 24) then return hexLess(a, b, 24) end
  local na, nb = string.sub(a, 25), string.sub(b, 25)
  for i = 1, math.min(#na, #nb) do
    local x, y = string.byte(na, i), string.byte(nb, i)
    if x ~= y then return x < y end
  end
  return #na < #nb
end

local function exists(k) return redis.call('exists', k) == 1 end

-- current: whether k is live, and the version it holds (a live key's, or
-- its tombstone's; a tombstone past its deadline is dropped).
-- A version written by a read-modify-write is kept with an 'r' before it
-- (never a hex digit): reads then report no version (see stampRMW).
local function current(k)
  if exists(k) then
    local v = redis.call('hget', V, k) or ''
    if string.sub(v, 1, 1) == 'r' then v = string.sub(v, 2) end
    return true, v
  end
  local t = redis.call('hget', T, k)
  if t then
    if not hexLess(string.sub(t, 1, 16), now, 16) then return false, string.sub(t, 17) end
    redis.call('hdel', T, k)
  end
  return false, ''
end

local function stamp(k, v)
  redis.call('hset', V, k, v)
  redis.call('hdel', T, k)
end

-- stampRMW stamps a value modified in place. Its replicas may each hold
-- increments or elements the others lack, so copying one over another
-- (read repair) would lose some and, with writes still in flight, count
-- others twice: reads report no version for it (the reader's decodeVersion
-- refuses the 'r') and repair leaves it alone.
local function stampRMW(k, v)
  redis.call('hset', V, k, 'r' .. v)
  redis.call('hdel', T, k)
end

local function bury(k, v)
  redis.call('hdel', V, k)
  redis.call('hset', T, k, tombUntil .. v)
end

local function isErr(r) return type(r) == 'table' and r.err ~= nil end

-- exec runs cmd and returns fix and reply (see above).
local function exec(cmd)
  local r = redis.pcall(unpack(cmd))
  local name = string.lower(cmd[1])
  if r == false and (name == 'lpop' or name == 'rpop') and #cmd == 3 then return 1, '' end
  if r == false and (name == 'lmpop' or name == 'zmpop') then return 1, '' end
  if type(r) == 'number' and (r >= 9007199254740992 or r <= -9007199254740992) then
    if name == 'hincrby' then return 2, redis.call('hget', cmd[2], cmd[3]) end
    return 2, redis.call('get', cmd[2])
  end
  return 0, r
end

-- dry runs cmd on key k as it is and puts k back as it was: the reply of
-- a write that is older than the key's version.
local function dry(cmd, k)
  local d = redis.call('dump', k)
  local at = d and redis.call('pexpiretime', k)
  local fix, r = exec(cmd)
  if d then
    if at < 0 then at = 0 end
    redis.call('restore', k, at, d, 'replace', 'absttl')
  else
    redis.call('del', k)
  end
  return fix, r
end
