-- Library (included by rate_limit.lua and apply_events.lua, see backend/store.py): fixed
-- rate-limit windows counted inside a script, the strategy of backend/limits.py.
--
-- hit_windows(keys, first, n, args, at, cost): keys[first .. first + n - 1] are the windows'
-- counters, args[at ..] their amount and seconds (two values per window), cost the hits this
-- request counts for (its number of events). Every window up to the first one exceeded is
-- counted. Returns nil if none is exceeded, else "RATELIMIT <window number> <ms until it
-- resets>".
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
