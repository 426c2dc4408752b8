-- apply: whole-value writes and deletes, applied only when newer than what
-- the key holds. ARGV[4] is 'w' (whole value), 'R' (read repair's RESTORE:
-- a whole value whose stale copy is answered OK unread) or 'd' (delete), ARGV[5..]
-- the command; DEL/UNLINK of several keys and MSET of several pairs run
-- as one command per key.
local fam = ARGV[4]

-- wrote: whether cmd, applied without error to a key that was live or
-- not, changed it (as the embedded engine's helpers say).
local function wrote(name, cmd, live, r, ttl)
  if name == 'setnx' or name == 'persist' or string.find(name, 'expire', 1, true) then return r == 1 end
  if name == 'set' then
    for i = 4, #cmd do
      local o = string.lower(cmd[i])
      if (o == 'nx' and live) or (o == 'xx' and not live) then return false end
    end
    return true
  end
  if name == 'getex' then
    if not live then return false end
    for i = 3, #cmd do
      local o = string.lower(cmd[i])
      if o == 'ex' or o == 'px' or o == 'exat' or o == 'pxat' then return true end
      if o == 'persist' then return ttl >= 0 end
    end
    return false
  end
  return true
end

local function staleReply(name, cmd, k)
  -- A client's RESTORE runs dry: stale, it still answers BUSYKEY or a
  -- payload error as on the key as it is; read repair's is answered OK.
  if ((name == 'set' or name == 'mset') and #cmd == 3) or fam == 'R' then return 0, { ok = 'OK' } end
  if (name == 'del' or name == 'unlink') and #cmd == 2 then return 0, redis.call('exists', k) end
  return dry(cmd, k)
end

local function one(cmd)
  local name, k = string.lower(cmd[1]), cmd[2]
  local live, old = current(k)
  if old ~= '' and not less(old, ver) then
    local fix, r = staleReply(name, cmd, k)
    return old, fix, r
  end
  local ttl = -2
  if name == 'getex' then ttl = redis.call('pttl', k) end
  local fix, r = exec(cmd)
  if isErr(r) then
    local _, v = current(k)
    return v, fix, r
  end
  local there = exists(k)
  if fam == 'd' then
    if not there then
      bury(k, ver)
      return ver, fix, r
    end
  elseif there and wrote(name, cmd, live, r, ttl) then
    stamp(k, ver)
    return ver, fix, r
  elseif not there and live then
    bury(k, ver) -- an expiry in the past deleted it
    return ver, fix, r
  end
  local _, v = current(k)
  return v, fix, r
end

local cmd = { unpack(ARGV, 5) }
local name = string.lower(cmd[1])
if (name == 'del' or name == 'unlink') and #cmd > 2 then
  local n = 0
  for i = 2, #cmd do
    local _, _, r = one({ cmd[1], cmd[i] })
    if r == 1 then n = n + 1 end
  end
  return { '', 0, n }
end
if name == 'mset' and #cmd > 3 then
  if #cmd % 2 == 0 then return { '', 0, { err = "ERR wrong number of arguments for 'mset' command" } } end
  -- The last value given for a key wins, as in Redis: earlier pairs of a
  -- key given again are skipped (they share the command's version).
  local last = {}
  for i = 2, #cmd, 2 do last[cmd[i]] = i end
  for i = 2, #cmd, 2 do
    if last[cmd[i]] == i then one({ cmd[1], cmd[i], cmd[i + 1] }) end
  end
  return { '', 0, { ok = 'OK' } }
end
local v, fix, r = one(cmd)
return { v, fix, r }
