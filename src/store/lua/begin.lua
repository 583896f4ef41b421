-- begin: claim check, lease acquire and session load for one user, atomically, in one round trip.
-- KEYS[1]  session hash      {<key>}
-- KEYS[2]  history list      {<key>}:h
-- KEYS[3]  lease             {<key>}:l
-- KEYS[4]  transition claim  {<key>}:c:<claim key>   (only when ARGV[1] = '1')
-- ARGV[1]  '1': report a duplicate if KEYS[4] exists, '0': no claim check
-- ARGV[2]  lease TTL in ms, '' to take no lease
-- ARGV[3]  '1': load the session, '0': do not (acquireLease)
-- Reply: {0} duplicate | {1, lease PTTL} busy |
--        {2, token (0: no lease), hash type, HGETALL or {value}, history type, LRANGE}
if ARGV[1] == '1' and redis.call('EXISTS', KEYS[4]) == 1 then
  return {0}
end

local token = 0
if ARGV[2] ~= '' then
  -- Held: '<token>'. Released: '~<token>', kept until the lease TTL runs out so the next token
  -- can be derived from it even within the same microsecond.
  local current = redis.call('GET', KEYS[3])
  if current and string.sub(current, 1, 1) ~= '~' then
    return {1, redis.call('PTTL', KEYS[3])}
  end
  -- Fencing tokens come from the server clock (microseconds), so they keep increasing after the
  -- lease key has expired and is gone; the previous token only matters within one microsecond.
  local now = redis.call('TIME')
  token = tonumber(now[1]) * 1000000 + tonumber(now[2])
  local previous = current and tonumber(string.sub(current, 2))
  if previous and previous >= token then
    token = previous + 1
  end
  redis.call('SET', KEYS[3], string.format('%.0f', token), 'PX', ARGV[2])
end

if ARGV[3] ~= '1' then
  return {2, token}
end

-- A key that holds another type is reported, never read with the wrong command (no WRONGTYPE):
-- the store decodes the reply, finds no session and quarantines it.
local hashType = redis.call('TYPE', KEYS[1]).ok
local fields = {}
if hashType == 'hash' then
  fields = redis.call('HGETALL', KEYS[1])
elseif hashType == 'string' then
  fields = {redis.call('GET', KEYS[1])}
end
local historyType = redis.call('TYPE', KEYS[2]).ok
local history = {}
if historyType == 'list' then
  history = redis.call('LRANGE', KEYS[2], 0, -1)
end
return {2, token, hashType, fields, historyType, history}
