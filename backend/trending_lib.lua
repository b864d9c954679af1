-- Shared by apply_events.lua and trending.lua (prepended to each when loaded).
--
-- Trending scores are stored as sum(w * 2^((t - epoch) / half_life)); dividing by
-- 2^((now - epoch) / half_life) gives each weight decayed to now. When the exponent of
-- "now" grows past REBASE, all scores are rescaled to a new epoch (now), so floats never
-- overflow whatever the half-life. The epoch key lives in the scores' hash slot.
-- triples: paper id, time (unix seconds), weight; numbers or numeric strings.
local function add_trending(scores, epoch_key, half, now, default_epoch, triples)
  local REBASE = 256
  local stored = redis.call('GET', epoch_key)
  local epoch = tonumber(stored or default_epoch)
  if (now - epoch) / half > REBASE then
    local factor = 2 ^ (-(now - epoch) / half)
    if redis.call('EXISTS', scores) == 1 then
      redis.call('ZUNIONSTORE', scores, 1, scores, 'WEIGHTS', string.format('%.17g', factor))
    end
    epoch = now
    stored = nil
  end
  if not stored then  -- written when it changes only (each write also goes to the AOF)
    redis.call('SET', epoch_key, string.format('%.17g', epoch))
  end
  -- one ZINCRBY per paper, in first-seen order
  local order, sums = {}, {}
  for i = 1, #triples, 3 do
    local paper = triples[i]
    local delta = tonumber(triples[i + 2]) * 2 ^ ((tonumber(triples[i + 1]) - epoch) / half)
    if sums[paper] == nil then
      order[#order + 1] = paper
      sums[paper] = delta
    else
      sums[paper] = sums[paper] + delta
    end
  end
  for _, paper in ipairs(order) do
    redis.call('ZINCRBY', scores, string.format('%.17g', sums[paper]), paper)
  end
  return epoch
end
