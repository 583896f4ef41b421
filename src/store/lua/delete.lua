-- delete: removes a session (hash and history) and announces it.
-- KEYS[1]  session hash  {<key>}
-- KEYS[2]  history list  {<key>}:h
-- ARGV[1]  change-event channel, '' for no event
-- ARGV[2]  session key for the event
-- Reply: 1 a session existed | 0 none
local hashType = redis.call('TYPE', KEYS[1]).ok
local version = 0
if hashType == 'hash' then
  version = tonumber(redis.call('HGET', KEYS[1], 'v') or '0') or 0
end
redis.call('DEL', KEYS[1], KEYS[2])
if hashType == 'none' then
  return 0
end
if ARGV[1] ~= '' then
  redis.call('PUBLISH', ARGV[1], cjson.encode({key = ARGV[2], version = version, type = 'delete'}))
end
return 1
