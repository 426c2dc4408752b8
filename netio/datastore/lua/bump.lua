-- bump: read-modify-write and multi-key commands, applied, leaving each
-- key they write at the newer of its version and the command's. ARGV[4]
-- is 'r' (one key, cmd[2]) or 'm' (several: ARGV[5] is how many, the
-- keys follow), then the command.
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
