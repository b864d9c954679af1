-- Authenticate and read the user's state stamp in one round trip (single Redis only: the
-- user's key is found here, not declared, so it may live in any slot).
--
-- KEYS[1]: the token key. ARGV: prefix and suffix of a user's events key around the user id.
-- Returns nil for an unknown token, else {token record, id of the newest event or "0-0"};
-- the caller checks the record's hash in constant time.
local record = redis.call('GET', KEYS[1])
if not record then
  return nil
end
local sep = string.find(record, ':', 1, true)
if not sep then
  return nil
end
local newest = redis.call('XREVRANGE', ARGV[1] .. string.sub(record, 1, sep - 1) .. ARGV[2],
  '+', '-', 'COUNT', 1)
if newest[1] then
  return {record, newest[1][1]}
end
return {record, '0-0'}
