-- begin: claim check, lease acquire and session load for one user, atomically, in one round trip.
-- KEYS[1]  session hash      {<key>}
-- KEYS[2]  history list      {<key>}:h
-- KEYS[3]  lease             {<key>}:l
-- KEYS[4]  transition claim  {<key>}:c:<claim key>   (only when ARGV[1] = '1')
-- ARGV[1]  '1': report a duplicate if KEYS[4] exists, '0': no claim check
-- ARGV[2]  lease TTL in ms, '' to take no lease
-- ARGV[3]  '1': load the session, '0': do not (acquireLease)
-- ARGV[4]  optional, with a lease: the version of the copy the caller holds ('' for none)
-- ARGV[5]  optional, with ARGV[4]: the fencing token that wrote that copy (field `w`)
-- ARGV[6]  optional, with ARGV[2] = '': the token of a lease the caller already holds (withLease);
--          while the lease key still holds it, the reply carries it as the token (read under it)
-- Reply: {0} duplicate | {1, lease PTTL} busy | {2, token (0: no lease taken or held)} no session |
--        {4, token} the stored session is still the caller's copy (`v` and `w` both match) |
--        (the token is a decimal string, 0 an integer)
--        {2, token, the hash's expiry (ms since epoch, -1: none), HGETALL, LRANGE} a session |
--        {3, token, hash type, {GET} or HGETALL or {}, history type} keys of another type
if ARGV[1] == '1' and redis.call('EXISTS', KEYS[4]) == 1 then
  return {0}
end

local token = 0
if ARGV[2] ~= '' then
  -- Fencing tokens come from the server clock (microseconds), so they keep increasing after the
  -- lease key has expired or was deleted by a release. Both are 16 digits (until the year 2286),
  -- so comparing the text compares the numbers.
  local now = redis.call('TIME')
  token = now[1] .. string.rep('0', 6 - #now[2]) .. now[2]
  -- Free: no key (a release deletes it), so a free lease is taken in one step. Otherwise it is held,
  -- or it is a released marker '~<token>', which earlier versions of these scripts left until the
  -- TTL ran out (a process still running them may share the server): the token is then derived.
  if not redis.call('SET', KEYS[3], token, 'NX', 'PX', ARGV[2]) then
    local current = redis.call('GET', KEYS[3])
    if current and string.byte(current, 1) ~= 126 then -- 126: '~'
      return {1, redis.call('PTTL', KEYS[3])}
    end
    local previous = current and string.sub(current, 2)
    if previous and (#previous > #token or (#previous == #token and previous >= token)) then
      token = string.format('%.0f', tonumber(previous) + 1)
    end
    redis.call('SET', KEYS[3], token, 'PX', ARGV[2])
  end
elseif ARGV[6] and redis.call('GET', KEYS[3]) == ARGV[6] then
  -- Still the caller's lease: nothing else can change the session before its fenced commit.
  token = ARGV[6]
end

if ARGV[3] ~= '1' then
  return {2, token}
end

-- The caller's copy is still current when the version and the token of its writer match
-- (docs/redis.md, "Session copies", says why this pair identifies the content). Checked only
-- under the lease just taken or still held, so nothing can change it before this transition's
-- commit.
if #ARGV >= 5 and ARGV[4] ~= '' and token ~= 0 then
  local current = redis.pcall('HMGET', KEYS[1], 'v', 'w')
  if current[1] == ARGV[4] and current[2] == ARGV[5] then
    return {4, token}
  end
end

-- Each read fails with WRONGTYPE on a key of another type: only then is the type looked up, and
-- reported instead of read (the store decodes the reply, finds no session and quarantines it).
local fields = redis.pcall('HGETALL', KEYS[1])
if fields.err then
  local hashType = redis.call('TYPE', KEYS[1]).ok
  local value = {}
  if hashType == 'string' then
    value = {redis.call('GET', KEYS[1])}
  end
  return {3, token, hashType, value, 'none'}
end
if #fields == 0 then
  -- No session. A history list left without its hash is ignored (and cleared by the next commit).
  return {2, token}
end
local history = redis.pcall('LRANGE', KEYS[2], 0, -1)
if history.err then
  return {3, token, 'hash', fields, redis.call('TYPE', KEYS[2]).ok}
end
-- The session's expiresAt is not stored: every write sets PEXPIREAT expiresAt + grace on the hash,
-- so the driver reads it back as the key's expiry minus the grace.
local expiry = redis.pcall('PEXPIRETIME', KEYS[1])
if type(expiry) == 'table' then
  -- Redis < 7.0 has no PEXPIRETIME: the server clock plus the remaining TTL (exact to about 1 ms).
  expiry = redis.call('PTTL', KEYS[1])
  if expiry >= 0 then
    local now = redis.call('TIME')
    expiry = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000) + expiry
  end
end
return {2, token, expiry, fields, history}
