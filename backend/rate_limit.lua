-- #include rate_windows.lua
-- Count hits in fixed rate-limit windows, and read the request's token record in the same
-- call (a single Redis, where the store counts the event-posting windows itself).
--
-- KEYS[1 .. W]: the W windows' counters (keys.rate_window), in the order they are checked;
--   KEYS[W + 1] (optional): a token key (keys.token), read after the windows are counted.
-- ARGV[1]: how many hits this request counts for (its number of events); then amount and
--   seconds of each window.
-- Returns the token record (nil if none or not asked for), or, when a window is exceeded,
-- the error "RATELIMIT <window number> <ms until it resets>".
local windows = (#ARGV - 1) / 2
local exceeded = hit_windows(KEYS, 1, windows, ARGV, 2, tonumber(ARGV[1]))
if exceeded then
  return redis.error_reply(exceeded)
end
if #KEYS > windows then
  return redis.call('GET', KEYS[windows + 1])
end
return nil
