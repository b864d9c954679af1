-- Count hits in fixed rate-limit windows (the strategy of backend/limits.py, counted by the
-- store on a single Redis so that event posting pays no round trip of its own for it), and
-- read the request's token record in the same call.
--
-- KEYS[1 .. W]: the W windows' counters (keys.rate_window), in the order they are checked;
--   KEYS[W + 1] (optional): a token key (keys.token), read after the windows are counted.
-- ARGV[1]: how many hits this request counts for (its number of events); then amount and
--   seconds of each window.
-- Every window up to the first one exceeded is counted. Returns the token record (nil if
-- none or not asked for), or, when a window is exceeded, the error
-- "RATELIMIT <window number> <ms until it resets>".
local cost = tonumber(ARGV[1])
local windows = (#ARGV - 1) / 2
for j = 1, windows do
  local key = KEYS[j]
  local hits = redis.call('INCRBY', key, cost)
  if hits == cost then
    redis.call('EXPIRE', key, ARGV[2 * j + 1])
  end
  if hits > tonumber(ARGV[2 * j]) then
    return redis.error_reply('RATELIMIT ' .. j .. ' ' .. redis.call('PTTL', key))
  end
end
if #KEYS > windows then
  return redis.call('GET', KEYS[windows + 1])
end
return nil
