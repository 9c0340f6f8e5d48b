-- wrk script for the benchmark harness: POSTs GraphQL request bodies, one per
-- line of the file $BODIES, in turn (each thread starts at a random line);
-- sends $TOKEN as a bearer token when it is set, and prints one JSON line when
-- done. Unless CHECK=0, it reads every response and counts those that are not
-- 200 or that carry GraphQL errors. With CHECK=0 it reads no response (wrk
-- then hands none to Lua: about 30% less of its own CPU per response)
-- and counts only those whose status is not 2xx or 3xx; the harness sets it
-- for servers that count their own GraphQL errors (the gateway's /metrics)
-- and for the HTTP floor, whose answer is fixed.

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  bodies = {}
  for line in io.lines(os.getenv("BODIES")) do
    if #line > 0 then
      table.insert(bodies, line)
    end
  end
  math.randomseed(os.time() + #threads)
  position = math.random(#bodies)
  failed = 0
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  local token = os.getenv("TOKEN")
  if token ~= nil and #token > 0 then
    wrk.headers["Authorization"] = "Bearer " .. token
  end
end

function request()
  local body = bodies[position]
  position = position % #bodies + 1
  return wrk.format(nil, nil, nil, body)
end

if os.getenv("CHECK") ~= "0" then
  function response(status, headers, body)
    if status ~= 200 or body:find('"errors"', 1, true) then
      failed = failed + 1
    end
  end
end

function done(summary, latency, requests)
  local failures = 0
  for _, thread in ipairs(threads) do
    failures = failures + thread:get("failed")
  end
  local errors = summary.errors
  if os.getenv("CHECK") == "0" then
    failures = errors.status
  end
  io.write(string.format(
    '{"requests":%d,"seconds":%.3f,"rps":%.1f,"p50_ms":%.3f,"p99_ms":%.3f,"failed":%d,"socket_errors":%d}\n',
    summary.requests,
    summary.duration / 1e6,
    summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000,
    latency:percentile(99) / 1000,
    failures,
    errors.connect + errors.read + errors.write + errors.timeout
  ))
end
