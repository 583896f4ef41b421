-- inboxUsers: the users of one index shard listed before a time, oldest first, with their tokens.
-- KEYS[1]  index shard     {<prefix>#inbox:<n>}
-- KEYS[2]  listing tokens  {<prefix>#inbox:<n>}:t
-- ARGV[1]  time (ms, exclusive)
-- ARGV[2]  how many users at most
-- Reply: flat {user key, score, token ('' for none), ...}
local listed = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[1], 'WITHSCORES', 'LIMIT', 0, tonumber(ARGV[2]))
local out = {}
for i = 1, #listed, 2 do
  out[#out + 1] = listed[i]
  out[#out + 1] = listed[i + 1]
  out[#out + 1] = redis.call('HGET', KEYS[2], listed[i]) or ''
end
return out
