-- inboxRemove: removes processed entries from a user's inbox; an emptied inbox is deleted, which
-- also resets its arrival counter.
-- KEYS[1]  inbox order   {<key>}:i
-- KEYS[2]  inbox bodies  {<key>}:ip
-- ARGV[1..] message ids (never '')
-- Reply: how many entries are left
for i = 1, #ARGV do
  local body = redis.call('HGET', KEYS[2], ARGV[i])
  if body then
    redis.call('ZREM', KEYS[1], string.sub(body, 1, 10) .. ':' .. ARGV[i])
    redis.call('HDEL', KEYS[2], ARGV[i])
  end
end
local left = redis.call('ZCARD', KEYS[1])
if left == 0 then
  redis.call('DEL', KEYS[1], KEYS[2])
end
return left
