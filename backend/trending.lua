-- Add time-decayed weights to the trending scores (used on Redis Cluster, where the
-- per-user script cannot touch these keys).
-- KEYS: scores (zset), epoch (string; unix seconds)  -- same hash slot
-- ARGV: half_life_seconds, now_seconds, default_epoch, then triples paper_id, ts_seconds, weight
local triples = {}
for i = 4, #ARGV do triples[#triples + 1] = ARGV[i] end
return tostring(add_trending(KEYS[1], KEYS[2], tonumber(ARGV[1]), tonumber(ARGV[2]),
                             tonumber(ARGV[3]), triples))
