-- Fixed-window rate limits counted inside a script (the strategy of backend/limits.py, kept
-- here so that event posting pays no extra round trip; see backend/limits.py).
-- keys[first .. first + n - 1]: the windows' counters; args[at ..]: amount, seconds per
-- window; cost: how many hits this request counts for (its number of events).
-- Every window up to the first one exceeded is counted; returns nil if none is exceeded,
-- else "RATELIMIT <window number> <ms until it resets>".
local function hit_windows(keys, first, n, args, at, cost)
  for j = 1, n do
    local key = keys[first + j - 1]
    local hits = redis.call('INCRBY', key, cost)
    if hits == cost then
      redis.call('EXPIRE', key, args[at + 2 * j - 1])
    end
    if hits > tonumber(args[at + 2 * j - 2]) then
      return 'RATELIMIT ' .. j .. ' ' .. redis.call('PTTL', key)
    end
  end
  return nil
end
