-- release: frees a lease only for the holder of its fencing token.
-- KEYS[1]  lease {<key>}:l
-- ARGV[1]  token
-- Reply: 1 released | 0 not the holder (already released, expired or taken over)
if redis.call('GET', KEYS[1]) == ARGV[1] then
  -- '~<token>' marks it free but keeps the last token until the TTL ends (see begin.lua).
  redis.call('SET', KEYS[1], '~' .. ARGV[1], 'KEEPTTL')
  return 1
end
return 0
