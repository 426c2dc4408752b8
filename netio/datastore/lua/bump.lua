-- bump: read-modify-write and multi-key commands, applied, leaving each
-- key they write at the newer of its version and the command's. ARGV[4]
-- is 'r' (one key, cmd[2]) or 'm' (several: ARGV[5] is how many, the
-- keys follow), then the command. A client's script or a transaction
-- cannot run inside this script (Redis refuses EVAL and MULTI from one),
-- so they run in one MULTI between two steps over the keys they write,
-- 'p' (before) and 'a' (after), ARGV[5] keys following:
--   'p' gives every one of them that exists and has no version an empty
--     one ('r'), and drops the version of one that does not (left by a
--     key that expired), so that in 'a' a version means it existed;
--   'a' leaves each at the newer of what it held before (its version, or
--     its tombstone's, which the script or transaction left in place)
--     and the command's version, and one that existed before and is gone
--     gets a tombstone at that version.
if ARGV[4] == 'p' then
  for i = 6, 5 + tonumber(ARGV[5]) do
    local k = ARGV[i]
    if not companion(k) then
      if not exists(k) then
        redis.call('hdel', V, k) -- a version left by a key that expired
      elseif not redis.call('hget', V, k) then
        redis.call('hset', V, k, 'r')
      end
    end
  end
  return { '', 0, 'OK' }
end
if ARGV[4] == 'a' then
  for i = 6, 5 + tonumber(ARGV[5]) do
    local k = ARGV[i]
    if not companion(k) then
      local raw = redis.call('hget', V, k)
      local had = raw or ''
      if string.sub(had, 1, 1) == 'r' then had = string.sub(had, 2) end
      local old = had
      local t = redis.call('hget', T, k)
      if t and not hexLess(string.sub(t, 1, 16), now, 16) and less(old, string.sub(t, 17)) then
        old = string.sub(t, 17)
      end
      local to = old
      if less(to, ver) then to = ver end
      if exists(k) then stampRMW(k, to) elseif raw then bury(k, to) end
    end
  end
  return { '', 0, 'OK' }
end
if ARGV[4] == 'r' then
  local cmd = { unpack(ARGV, 5) }
  local k = cmd[2]
  local live, old = current(k)
  -- A duplicate (the version the key holds), or a key whose tombstone is
  -- as new: answer as on the key as it is, change nothing.
  if old ~= '' and (old == ver or (not live and not less(old, ver))) then
    local fix, r = dry(cmd, k)
    return { old, fix, r }
  end
  local fix, r = exec(cmd)
  if isErr(r) then
    local _, v = current(k)
    return { v, fix, r }
  end
  local to = old
  if less(old, ver) then to = ver end
  if exists(k) then
    stampRMW(k, to)
    return { to, fix, r }
  elseif live then
    bury(k, to) -- emptied: Redis deleted it
    return { to, fix, r }
  end
  local _, v = current(k)
  return { v, fix, r }
end
local n = tonumber(ARGV[5])
local ks = { unpack(ARGV, 6, 5 + n) }
local cmd = { unpack(ARGV, 6 + n) }
local lives, olds = {}, {}
for i, k in ipairs(ks) do lives[i], olds[i] = current(k) end
local fix, r = exec(cmd)
if isErr(r) then return { '', fix, r } end
for i, k in ipairs(ks) do
  local to = olds[i]
  if less(to, ver) then to = ver end
  if exists(k) then stampRMW(k, to) elseif lives[i] then bury(k, to) end
end
return { '', fix, r }
