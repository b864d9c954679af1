-- Count the event-posting windows of a request that does not reach the event script
-- (an invalid body, counted as one event): KEYS the counters, ARGV amount, seconds per
-- window.
local exceeded = hit_windows(KEYS, 1, #KEYS, ARGV, 1, 1)
if exceeded then
  return redis.error_reply(exceeded)
end
return 0
