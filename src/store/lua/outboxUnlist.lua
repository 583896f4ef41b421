-- outboxUnlist: removes users found with no pending reply from an index shard. A user is removed
-- only when its listing token is unchanged since it was read (no commit listed it again) and older
-- than ARGV[1] by this node's clock: on a cluster a commit lists its user before it commits, so a
-- fresh listing may belong to a commit that has not landed yet. Such a user is moved to the back
-- (score ARGV[2]) instead, so it does not hold up the users behind it.
-- KEYS[1]  index shard     {<prefix>#outbox:<n>}
-- KEYS[2]  listing tokens  {<prefix>#outbox:<n>}:t
-- ARGV[1]  how old (ms) a token must be to unlist
-- ARGV[2]  time (ms): the new score of a user kept
-- ARGV[3..] pairs: user key, token read BEFORE its pending set was found empty ('' for none)
-- Reply: how many users were removed
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local removed = 0
for i = 3, #ARGV, 2 do
  local token = redis.call('HGET', KEYS[2], ARGV[i]) or ''
  if token == ARGV[i + 1] and (token == '' or now - tonumber(token) >= tonumber(ARGV[1])) then
    redis.call('ZREM', KEYS[1], ARGV[i])
    redis.call('HDEL', KEYS[2], ARGV[i])
    removed = removed + 1
  else
    redis.call('ZADD', KEYS[1], 'XX', ARGV[2], ARGV[i])
  end
end
return removed
