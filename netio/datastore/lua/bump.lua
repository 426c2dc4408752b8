-- bump: read-modify-write and multi-key commands, applied, leaving each
-- key they write at the newer of its version and the command's. ARGV[4]
-- is 'r' (one key, cmd[2]) or 'm' (several: ARGV[5] is how many, the
-- keys follow), then the command; or 'a' (after: ARGV[5] keys follow,
-- no command), sent in one MULTI right after a client's script, which
-- cannot run inside this one: each key the script declared is left at
-- the newer of what it held before (its version, or its tombstone's,
-- which the script left in place) and the script's version, and one the
-- script deleted gets a tombstone at that version.
if ARGV[4] == 'a' then
  local n = tonumber(ARGV[5])
  for i = 6, 5 + n do
    local k = ARGV[i]
    if not companion(k) then
      local had = redis.call('hget', V, k) or ''
      if string.sub(had, 1, 1) == 'r' then had = string.sub(had, 2) end
      local old = had
      local t = redis.call('hget', T, k)
      if t and not hexLess(string.sub(t, 1, 16), now, 16) and less(old, string.sub(t, 17)) then
        old = string.sub(t, 17)
      end
      local to = old
      if less(to, ver) then to = ver end
      if exists(k) then stampRMW(k, to) elseif had ~= '' then bury(k, to) end
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
