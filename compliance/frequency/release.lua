-- Give back the slots of a reserved send whose delivery failed, once.
-- KEYS[1] is the reservation marker; deleting it is the "once": a repeated release finds
-- nothing to delete and changes nothing.
-- Then per refundable cap one KEY (calendar: the send's bucket key; rolling: the sorted set)
-- and two ARGV: kind ('c'|'r') and, for rolling caps, the send's member.
if redis.call('DEL', KEYS[1]) == 0 then
  return 0
end
for i = 2, #KEYS do
  local kind = ARGV[2 * (i - 1) - 1]
  if kind == 'c' then
    if redis.call('DECR', KEYS[i]) <= 0 then
      redis.call('DEL', KEYS[i])
    end
  else
    redis.call('ZREM', KEYS[i], ARGV[2 * (i - 1)])
  end
end
return 1
