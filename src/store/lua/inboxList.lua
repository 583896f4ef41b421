-- inboxList: lists users in one shard of the index of users with waiting messages (recovery).
-- Run before an add (the user is listed before its entries exist) and after it with a token.
-- KEYS[1]  index shard     {<prefix>#inbox:<n>}    sorted set: member = user key, score = first listed (ms)
-- KEYS[2]  listing tokens  {<prefix>#inbox:<n>}:t  hash: user key -> token of the last add
-- ARGV[1]  time (ms): the score of a user not listed yet (ZADD NX keeps the first)
-- ARGV[2]  token of this add, '' to list only (the run before the add)
-- ARGV[3..] user keys
-- Reply: 1
-- The token is written before the listing, and both in one step: an unlist that read an older
-- token (inboxUnlist) can no longer remove the user.
for i = 3, #ARGV do
  if ARGV[2] ~= '' then
    redis.call('HSET', KEYS[2], ARGV[i], ARGV[2])
  end
  redis.call('ZADD', KEYS[1], 'NX', ARGV[1], ARGV[i])
end
return 1
