-- inboxUnlist: removes users whose inbox was found empty from an index shard, unless an add listed
-- them again since (their token changed).
-- KEYS[1]  index shard     {<prefix>#inbox:<n>}
-- KEYS[2]  listing tokens  {<prefix>#inbox:<n>}:t
-- ARGV[1..] pairs: user key, token read BEFORE the inbox was found empty ('' for none)
-- Reply: how many users were removed
local removed = 0
for i = 1, #ARGV, 2 do
  if (redis.call('HGET', KEYS[2], ARGV[i]) or '') == ARGV[i + 1] then
    redis.call('ZREM', KEYS[1], ARGV[i])
    redis.call('HDEL', KEYS[2], ARGV[i])
    removed = removed + 1
  end
end
return removed
