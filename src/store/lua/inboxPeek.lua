-- inboxPeek: a user's oldest waiting entries, in processing order (timestamp, then arrival).
-- KEYS[1]  inbox order   {<key>}:i
-- KEYS[2]  inbox bodies  {<key>}:ip
-- ARGV[1]  how many entries at most
-- Reply: flat {id, provider timestamp (ms), payload, ...}
local limit = tonumber(ARGV[1])
if limit < 1 then
  return {}
end
local members = redis.call('ZRANGE', KEYS[1], 0, limit - 1, 'WITHSCORES')
local out = {}
for i = 1, #members, 2 do
  -- member = <10-digit seq>:<id>; body = <10-digit seq><payload>
  local id = string.sub(members[i], 12)
  local body = redis.call('HGET', KEYS[2], id)
  if body then
    out[#out + 1] = id
    out[#out + 1] = members[i + 1]
    out[#out + 1] = string.sub(body, 11)
  end
end
return out
