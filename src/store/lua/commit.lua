-- commit: fencing and version checks, then the whole patch, claim, lease release, TTLs and the
-- change event, atomically, in one round trip. Nothing is written unless every check passes.
-- KEYS[1]  session hash      {<key>}
-- KEYS[2]  history list      {<key>}:h
-- KEYS[3]  lease             {<key>}:l
-- KEYS[4]  transition claim  {<key>}:c:<claim key>   (only when ARGV[4] ~= '')
-- ARGV[1]  expected version (0: the session does not exist)
-- ARGV[2]  lease token the writer holds, '' for none
-- ARGV[3]  '1': release the lease after the commit
-- ARGV[4]  claim TTL in ms, '' for no claim
-- ARGV[5]  '1': a patch follows, '0': no change (claim and release only)
-- ARGV[6]  '1': reset (delete hash and history before applying the patch)
-- ARGV[7]  expiresAt (ms since epoch) stored in field 'e', '' for never
-- ARGV[8]  PEXPIREAT for the hash and history (expiresAt + grace), '' to persist
-- ARGV[9]  history limit
-- ARGV[10] change-event channel, '' for no event
-- ARGV[11] session key for the event
-- ARGV[12..15] counts of: fields to set, fields to delete, counters, history entries
-- ARGV[16..] set pairs (name, value), deleted names, counter pairs (name, step), history entries
-- Reply: {0, new version} ok | {1} conflict (version moved, claim already taken, not a session) | {2} lease lost
-- Lua's C stack limits unpack() to a few thousand values: long argument lists go in slices.
local function chunked(command, key, list, step)
  for first = 1, #list, step do
    redis.call(command, key, unpack(list, first, math.min(first + step - 1, #list)))
  end
end

if ARGV[2] ~= '' and redis.call('GET', KEYS[3]) ~= ARGV[2] then
  return {2}
end

local hashType = redis.call('TYPE', KEYS[1]).ok
local current = 0
if hashType == 'hash' then
  current = tonumber(redis.call('HGET', KEYS[1], 'v') or '0')
elseif hashType ~= 'none' then
  -- Not a session: refuse, so the next begin reads it and the store quarantines it.
  return {1}
end
local historyType = redis.call('TYPE', KEYS[2]).ok
if current ~= tonumber(ARGV[1]) or (historyType ~= 'list' and historyType ~= 'none') then
  return {1}
end
-- Another worker processed the same message since begin: refuse, and the retry's begin reports it.
if ARGV[4] ~= '' and redis.call('EXISTS', KEYS[4]) == 1 then
  return {1}
end

local version = current
if ARGV[5] == '1' then
  version = current + 1
  local nSet, nDel, nIncr, nPush = tonumber(ARGV[12]), tonumber(ARGV[13]), tonumber(ARGV[14]), tonumber(ARGV[15])
  if ARGV[6] == '1' or current == 0 then
    -- current == 0 also clears a history list left without its hash, so old entries never reappear.
    redis.call('DEL', KEYS[1], KEYS[2])
  end
  local set = {'v', string.format('%.0f', version)}
  if ARGV[7] ~= '' then
    set[3] = 'e'
    set[4] = ARGV[7]
  end
  local i = 16
  for _ = 1, nSet do
    set[#set + 1] = ARGV[i]
    set[#set + 1] = ARGV[i + 1]
    i = i + 2
  end
  chunked('HSET', KEYS[1], set, 1000)
  local del = {}
  if ARGV[7] == '' then
    del[1] = 'e'
  end
  for _ = 1, nDel do
    del[#del + 1] = ARGV[i]
    i = i + 1
  end
  chunked('HDEL', KEYS[1], del, 1000)
  for _ = 1, nIncr do
    -- Vars are JSON text: an integer increments in place; a float (or an integer past 64 bits)
    -- fails HINCRBY, and HINCRBYFLOAT then does the same sum on the decimal text.
    local ok = redis.pcall('HINCRBY', KEYS[1], ARGV[i], ARGV[i + 1])
    if type(ok) == 'table' and ok.err then
      redis.call('HINCRBYFLOAT', KEYS[1], ARGV[i], ARGV[i + 1])
    end
    i = i + 2
  end
  local limit = tonumber(ARGV[9])
  if nPush > 0 and limit > 0 then
    local entries = {}
    for _ = 1, nPush do
      entries[#entries + 1] = ARGV[i]
      i = i + 1
    end
    chunked('RPUSH', KEYS[2], entries, 1000)
    redis.call('LTRIM', KEYS[2], -limit, -1)
  elseif limit == 0 then
    redis.call('DEL', KEYS[2])
  end
  -- Every key of the session gets the same absolute expiry, renewed by every write.
  if ARGV[8] ~= '' then
    redis.call('PEXPIREAT', KEYS[1], ARGV[8])
    redis.call('PEXPIREAT', KEYS[2], ARGV[8])
  else
    redis.call('PERSIST', KEYS[1])
    redis.call('PERSIST', KEYS[2])
  end
end

if ARGV[4] ~= '' then
  redis.call('SET', KEYS[4], '1', 'PX', ARGV[4])
end
if ARGV[3] == '1' and ARGV[2] ~= '' then
  -- Keep the released token until the lease would have expired: the next grant derives from it.
  redis.call('SET', KEYS[3], '~' .. ARGV[2], 'KEEPTTL')
end
if ARGV[10] ~= '' and ARGV[5] == '1' then
  redis.call('PUBLISH', ARGV[10], cjson.encode({key = ARGV[11], version = version, type = 'commit'}))
end
return {0, version}
