-- Add time-decayed weights to the trending scores, atomically with the epoch they use.
--
-- A score is stored as sum(w * 2^((t - epoch) / half_life)); dividing by
-- 2^((now - epoch) / half_life) gives each weight decayed to now. When the exponent of
-- "now" grows past REBASE, all scores are rescaled to a new epoch (now) so that floats
-- never overflow, whatever the half-life.
-- KEYS: scores (zset), epoch (string; unix seconds)  -- same hash slot
-- ARGV: half_life_seconds, now_seconds, default_epoch, then triples paper_id, ts_seconds, weight
local REBASE = 256
local half = tonumber(ARGV[1])
local now = tonumber(ARGV[2])
local epoch = tonumber(redis.call('GET', KEYS[2]) or ARGV[3])
if (now - epoch) / half > REBASE then
  local factor = 2 ^ (-(now - epoch) / half)
  if redis.call('EXISTS', KEYS[1]) == 1 then
    redis.call('ZUNIONSTORE', KEYS[1], 1, KEYS[1], 'WEIGHTS', string.format('%.17g', factor))
  end
  epoch = now
end
redis.call('SET', KEYS[2], string.format('%.17g', epoch))
for i = 4, #ARGV, 3 do
  local delta = tonumber(ARGV[i + 2]) * 2 ^ ((tonumber(ARGV[i + 1]) - epoch) / half)
  redis.call('ZINCRBY', KEYS[1], string.format('%.17g', delta), ARGV[i])
end
return tostring(epoch)
