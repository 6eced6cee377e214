-- Check every cap of one send and, only if all blocking caps pass, count it in all of them.
-- Redis runs a script atomically, so no other reservation can interleave between the
-- reads and the writes: this is what makes "never exceed a cap" hold across processes.
--
-- ARGV[1]  '1' = record when allowed, '0' = peek
-- ARGV[2]  marker TTL in ms ('0' = no marker; else the marker key is the last KEY)
-- ARGV[3]  number of caps
-- then per cap: kind ('c' calendar | 'r' rolling), blocking ('1'|'0'), limit, nkeys, ttl_ms
--   calendar caps add: own (1-based position of the send's bucket among the cap's keys)
--   rolling caps add: low, high (exclusive bounds of the events read, µs), at (µs), member,
--                     prune (events at or before it are deleted when recording)
-- KEYS: per calendar cap the bucket keys of every window holding the send, oldest first;
--       per rolling cap one sorted-set key (score = µs timestamp).
-- Timestamps travel as strings: Lua numbers print as %.14g and would lose microseconds.
--
-- Returns {allowed (1|0), observation per cap...}: calendar = count per bucket,
-- rolling = ascending timestamps inside the window.

local record = ARGV[1] == '1'
local marker_ttl = tonumber(ARGV[2])
local ncaps = tonumber(ARGV[3])
local a = 4
local k = 1
local allowed = 1
local result = {0}
local writes = {}
-- Every count in one call (a key that is no string, as a rolling cap's sorted set or the
-- marker, reads as nil and is not used): one MGET costs the server less than a GET per key.
local values = redis.call('MGET', unpack(KEYS))

for i = 1, ncaps do
  local kind = ARGV[a]
  local blocking = ARGV[a + 1] == '1'
  local limit = tonumber(ARGV[a + 2])
  local nkeys = tonumber(ARGV[a + 3])
  local ttl = ARGV[a + 4]
  a = a + 5
  local observed = {}
  local count = 0
  if kind == 'c' then
    local own = tonumber(ARGV[a])
    a = a + 1
    for j = 0, nkeys - 1 do
      local v = tonumber(values[k + j] or '0')
      observed[j + 1] = v
      count = count + v
    end
    writes[i] = {'c', KEYS[k + own - 1], ttl}
  else
    local low, high, at, member, prune = ARGV[a], ARGV[a + 1], ARGV[a + 2], ARGV[a + 3], ARGV[a + 4]
    a = a + 5
    local hits = redis.call('ZRANGEBYSCORE', KEYS[k], '(' .. low, '(' .. high, 'WITHSCORES')
    for j = 2, #hits, 2 do
      observed[#observed + 1] = tonumber(hits[j])
    end
    count = #observed
    writes[i] = {'r', KEYS[k], ttl, prune, at, member}
  end
  k = k + nkeys
  if blocking and count >= limit then
    allowed = 0
  end
  result[i + 1] = observed
end

result[1] = allowed
if allowed == 1 and record then
  for i = 1, ncaps do
    local w = writes[i]
    if w[1] == 'c' then
      redis.call('INCR', w[2])
      redis.call('PEXPIRE', w[2], w[3])
    else
      -- Drop events too old to share a window with any send up to one window late.
      redis.call('ZREMRANGEBYSCORE', w[2], '-inf', w[4])
      redis.call('ZADD', w[2], w[5], w[6])
      redis.call('PEXPIRE', w[2], w[3])
    end
  end
  if marker_ttl > 0 then
    redis.call('SET', KEYS[#KEYS], '1', 'PX', marker_ttl)
  end
end
return result
