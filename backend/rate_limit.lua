-- Count hits in fixed rate-limit windows (the strategy of backend/limits.py, counted by the
-- store on a single Redis so that event posting pays no round trip of its own for it).
--
-- KEYS: the windows' counters (keys.rate_window), in the order they are checked.
-- ARGV[1]: how many hits this request counts for (its number of events); then amount and
--   seconds of each window.
-- Every window up to the first one exceeded is counted. Returns 0 if none is exceeded, else
-- the error "RATELIMIT <window number> <ms until it resets>".
local cost = tonumber(ARGV[1])
for j, key in ipairs(KEYS) do
  local hits = redis.call('INCRBY', key, cost)
  if hits == cost then
    redis.call('EXPIRE', key, ARGV[2 * j + 1])
  end
  if hits > tonumber(ARGV[2 * j]) then
    return redis.error_reply('RATELIMIT ' .. j .. ' ' .. redis.call('PTTL', key))
  end
end
return 0
