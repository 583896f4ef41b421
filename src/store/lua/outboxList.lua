-- outboxList: lists users in one shard of the index of users with pending replies, before the
-- commit that records the replies (Redis Cluster only: on a single server commit.lua lists the user
-- itself, in the same step). The token is the shard node's clock, so outboxUnlist can tell a listing
-- renewed within the last minute (a commit may still be on its way) from an old one.
-- KEYS[1]  index shard     {<prefix>#outbox:<n>}    sorted set: member = user key, score = first listed (ms)
-- KEYS[2]  listing tokens  {<prefix>#outbox:<n>}:t  hash: user key -> server time (ms) of the last listing
-- ARGV[1]  time (ms): the score of a user not listed yet (ZADD NX keeps the first)
-- ARGV[2..] user keys
-- Reply: 1
local t = redis.call('TIME')
local token = t[1] .. string.format('%03d', math.floor(tonumber(t[2]) / 1000))
for i = 2, #ARGV do
  redis.call('HSET', KEYS[2], ARGV[i], token)
  redis.call('ZADD', KEYS[1], 'NX', ARGV[1], ARGV[i])
end
return 1
