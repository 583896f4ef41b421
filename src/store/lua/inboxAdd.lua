-- inboxAdd: records one user's webhook messages in the user's inbox, atomically, ignoring ids that
-- are already waiting. Entries are ordered by provider timestamp, then arrival (see docs/redis.md).
-- KEYS[1]  inbox order   {<key>}:i   sorted set: score = provider timestamp (ms), member = <seq>:<id>
-- KEYS[2]  inbox bodies  {<key>}:ip  hash: <id> -> <seq><payload>; field '' holds the last seq
-- ARGV[1..] triples: message id (never ''), provider timestamp (ms), payload
-- Reply: how many entries were new
-- <seq> is a 10-digit arrival counter: members with equal scores sort by it (lexicographic order).
local seq = tonumber(redis.call('HGET', KEYS[2], '') or '0')
local added = 0
for i = 1, #ARGV, 3 do
  local id = ARGV[i]
  if redis.call('HEXISTS', KEYS[2], id) == 0 then
    seq = seq + 1
    local s = string.format('%010d', seq)
    redis.call('ZADD', KEYS[1], ARGV[i + 1], s .. ':' .. id)
    redis.call('HSET', KEYS[2], id, s .. ARGV[i + 2])
    added = added + 1
  end
end
if added > 0 then
  redis.call('HSET', KEYS[2], '', string.format('%.0f', seq))
end
return added
