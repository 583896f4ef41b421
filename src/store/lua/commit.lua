-- commit: fencing, version and claim checks, then the whole patch, lease release, TTLs and the
-- change event, atomically, in one round trip. Nothing is written unless every check passes.
-- KEYS[1]  session hash      {<key>}
-- KEYS[2]  history list      {<key>}:h
-- KEYS[3]  lease             {<key>}:l
-- KEYS[4]  transition claim  {<key>}:c:<claim key>   (only read when ARGV[4] ~= ''; any name otherwise)
-- Only when the commit records replies (outbox entries, n = ARGV[#ARGV]):
-- KEYS[5]  user's replies    {<key>}:o    sorted set: member = <version>:<n>, score = created (ms)
-- KEYS[6]  pending replies   {<key>}:oq   sorted set, same members, only while pending
-- KEYS[7]  index shard       {<prefix>#outbox:<s>}    (single server only: #KEYS == 8 + n)
-- KEYS[8]  listing tokens    {<prefix>#outbox:<s>}:t  (single server only)
-- KEYS[#KEYS-n+1..#KEYS]     entry hashes {<key>}:o:<version>:<n>
-- ARGV[1]  expected version (0: the session does not exist)
-- ARGV[2]  lease token the writer holds, '' for none
-- ARGV[3]  '1': release the lease after the commit
-- ARGV[4]  claim TTL in ms, '' for no claim
-- ARGV[5]  the new version (expected + 1) when a patch follows, '' for no change (claim and release only)
-- ARGV[6]  '1': reset (delete hash and history before applying the patch)
-- ARGV[7]  PEXPIREAT for the hash and history (expiresAt + grace), '' to persist
-- ARGV[8]  history limit
-- ARGV[9]  count of history entries
-- ARGV[10] change-event channel, '' for no event
-- ARGV[11] the event up to its version: '{"key":"<session key>","version":'
-- ARGV[12..14] counts of: field pairs to set (`v` and `w` not included), fields to delete, counters
-- ARGV[15] the writer token (`w`) the caller's copy of the session carries, '' for no check: with
--          it, the commit is refused unless the stored `w` is the same (docs/redis.md, "Session copies")
-- ARGV[16..] set pairs (name, value), deleted names, counter pairs (name, step), history entries;
--          `v` (ARGV[5]) and, under a lease, `w` (ARGV[2]) are written with the set pairs
-- then, only with replies: pairs (member, payload) of each entry, the user key, the time (ms), the
--          retention (ms), and last the number of entries n
-- Reply: {0} ok | {1} conflict (version moved, claim already taken, not a session) | {2} lease lost
if ARGV[2] ~= '' and redis.call('GET', KEYS[3]) ~= ARGV[2] then
  return {2}
end

-- HMGET fails with WRONGTYPE when the key is not a hash: not a session, so refuse, and the next
-- begin reads it and the store quarantines it.
local current = redis.pcall('HMGET', KEYS[1], 'v', 'w')
if current.err then
  return {1}
end
local stored = current[1]
-- Versions are compared as text: the driver writes them as plain decimals ('0': no session).
if (stored or '0') ~= ARGV[1] then
  return {1}
end
-- The same version in another life of the hash (deleted and written again since the load) has
-- another writer token, or none.
if ARGV[15] ~= '' and current[2] ~= ARGV[15] then
  return {1}
end
-- Checks and records the claim in one step: if another worker processed the same message since
-- begin (with or without a lease), refuse, and the retry's begin reports the duplicate.
if ARGV[4] ~= '' and not redis.call('SET', KEYS[4], '1', 'NX', 'PX', ARGV[4]) then
  return {1}
end

-- Lua's C stack limits unpack() to a few thousand values: long argument lists go in slices.
local function each(command, key, from, to)
  local reply
  for first = from, to, 1000 do
    reply = redis.call(command, key, unpack(ARGV, first, math.min(first + 999, to)))
  end
  return reply
end

if ARGV[5] ~= '' then
  local nPush, nSet, nDel, nIncr = tonumber(ARGV[9]), tonumber(ARGV[12]), tonumber(ARGV[13]), tonumber(ARGV[14])
  local del = 16 + 2 * nSet
  local incr = del + nDel
  local push = incr + 2 * nIncr
  local limit = tonumber(ARGV[8])
  if ARGV[6] == '1' or not stored then
    -- No stored version also clears a history list left without its hash, so old entries never reappear.
    redis.call('DEL', KEYS[1], KEYS[2])
  end
  if nPush > 0 and limit > 0 then
    -- The history goes first: RPUSH is the one write that can fail (a history key of another type),
    -- and before it only the claim was written, which is taken back.
    local last = push + nPush - 1
    local length = redis.pcall('RPUSH', KEYS[2], unpack(ARGV, push, math.min(push + 999, last)))
    if type(length) == 'table' then
      if ARGV[4] ~= '' then
        redis.call('DEL', KEYS[4])
      end
      return {1}
    end
    if last >= push + 1000 then
      length = each('RPUSH', KEYS[2], push + 1000, last)
    end
    if length > limit then
      redis.call('LTRIM', KEYS[2], -limit, -1)
    end
  elseif limit == 0 then
    redis.call('DEL', KEYS[2])
  end
  -- The version and the writer's token are written from the ARGV that already carry them (every
  -- argument costs the server a copy into Lua), with the first thousand set pairs.
  local head = math.min(del - 1, 16 + 999)
  if ARGV[2] ~= '' then
    redis.call('HSET', KEYS[1], 'v', ARGV[5], 'w', ARGV[2], unpack(ARGV, 16, head))
  else
    redis.call('HSET', KEYS[1], 'v', ARGV[5], unpack(ARGV, 16, head))
  end
  if del - 1 > head then
    each('HSET', KEYS[1], head + 1, del - 1)
  end
  if nDel > 0 then
    each('HDEL', KEYS[1], del, incr - 1)
  end
  for i = incr, push - 1, 2 do
    -- Vars are JSON text: an integer increments in place; a float (or an integer past 64 bits)
    -- fails HINCRBY, and HINCRBYFLOAT then does the same sum on the decimal text.
    if type(redis.pcall('HINCRBY', KEYS[1], ARGV[i], ARGV[i + 1])) == 'table' then
      redis.call('HINCRBYFLOAT', KEYS[1], ARGV[i], ARGV[i + 1])
    end
  end
  -- Every key of the session gets the same absolute expiry, renewed by every write.
  if ARGV[7] ~= '' then
    redis.call('PEXPIREAT', KEYS[1], ARGV[7])
    redis.call('PEXPIREAT', KEYS[2], ARGV[7])
  else
    redis.call('PERSIST', KEYS[1])
    redis.call('PERSIST', KEYS[2])
  end
  if ARGV[10] ~= '' then
    redis.call('PUBLISH', ARGV[10], ARGV[11] .. ARGV[5] .. ',"type":"commit"}')
  end
end

-- Replies produced by the transition: recorded here, so they exist exactly when the state change does.
if #KEYS > 4 then
  local n = tonumber(ARGV[#ARGV])
  local retention = ARGV[#ARGV - 1]
  local now = ARGV[#ARGV - 2]
  local user = ARGV[#ARGV - 3]
  local base = #ARGV - 4 - 2 * n
  local entries = #KEYS - n
  -- Members older than the retention belong to entries that have expired.
  redis.call('ZREMRANGEBYSCORE', KEYS[5], '-inf', '(' .. (tonumber(now) - tonumber(retention)))
  for i = 1, n do
    local member = ARGV[base + 2 * i - 1]
    local entry = KEYS[entries + i]
    if redis.call('EXISTS', entry) == 0 then
      redis.call('HSET', entry, 'p', ARGV[base + 2 * i], 's', 'pending', 'a', '0', 'c', now, 'u', now)
      redis.call('PEXPIRE', entry, retention)
      redis.call('ZADD', KEYS[5], now, member)
      redis.call('ZADD', KEYS[6], now, member)
    end
  end
  redis.call('PEXPIRE', KEYS[5], retention)
  redis.call('PEXPIRE', KEYS[6], retention)
  if #KEYS == 8 + n then
    local t = redis.call('TIME')
    redis.call('HSET', KEYS[8], user, t[1] .. string.format('%03d', math.floor(tonumber(t[2]) / 1000)))
    redis.call('ZADD', KEYS[7], 'NX', now, user)
  end
end

if ARGV[3] == '1' and ARGV[2] ~= '' then
  -- Released: the key goes, so the next begin takes the lease with one SET NX (see begin.lua).
  redis.call('DEL', KEYS[3])
end
return {0}
