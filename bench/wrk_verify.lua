-- wrk script for bench/verifier_load.py: POST /credentials/verify, rotating request bodies.
--
--   wrk -t1 -c16 -d30s -s bench/wrk_verify.lua http://127.0.0.1:PORT -- BODIES QUOTA MARKER RECONNECT
--
-- BODIES:    a file with one JSON request body per line (distinct signed credentials).
-- QUOTA:     stop this thread after that many responses (0: run for the -d duration).
-- MARKER:    a file path this thread writes when its quota is done, so that the caller can
--            end wrk early (SIGINT) instead of waiting for -d.
-- RECONNECT: every RECONNECT-th request says "Connection: close" (0: never), so that
--            connections are renewed now and then as real clients and proxies do; with
--            worker processes sharing one listening socket, a fixed set of connections
--            opened at once would otherwise all be accepted by one worker.
-- Every answer must be 200 with "verified":true; anything else counts as "bad".

local threads = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
  table.insert(threads, thread)
end

function init(args)
  local bodies = {}
  for line in io.lines(args[1]) do
    if #line > 0 then
      bodies[#bodies + 1] = line
    end
  end
  requests = {}
  closing = {}
  local headers = { ["Content-Type"] = "application/json", ["Accept"] = "application/json" }
  local last = { ["Content-Type"] = "application/json", ["Accept"] = "application/json",
                 ["Connection"] = "close" }
  for i, body in ipairs(bodies) do
    requests[i] = wrk.format("POST", "/credentials/verify", headers, body)
    closing[i] = wrk.format("POST", "/credentials/verify", last, body)
  end
  quota = tonumber(args[2]) or 0
  marker = args[3]
  reconnect = tonumber(args[4]) or 0
  sent = 0
  -- threads start at different places in the pool
  cursor = ((id - 1) * 7919) % #requests
  done_count = 0
  bad = 0
  bad_status = 0
  first_bad = ""
  finished = false
end

function request()
  cursor = cursor % #requests + 1
  sent = sent + 1
  if reconnect > 0 and sent % reconnect == 0 then
    return closing[cursor]
  end
  return requests[cursor]
end

function response(status, headers, body)
  done_count = done_count + 1
  if status ~= 200 or not string.find(body, '"verified":true', 1, true) then
    bad = bad + 1
    if status ~= 200 then
      bad_status = bad_status + 1
    end
    if first_bad == "" then
      first_bad = tostring(status) .. " " .. string.sub(body, 1, 300)
    end
  end
  if quota > 0 and done_count >= quota and not finished then
    finished = true
    if marker and #marker > 0 then
      local f = io.open(marker .. "." .. id, "w")
      if f then
        f:write(tostring(done_count))
        f:close()
      end
    end
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  local bad_total, status_total, responses = 0, 0, 0
  local sample = ""
  for _, thread in ipairs(threads) do
    bad_total = bad_total + (thread:get("bad") or 0)
    status_total = status_total + (thread:get("bad_status") or 0)
    responses = responses + (thread:get("done_count") or 0)
    local fb = thread:get("first_bad") or ""
    if sample == "" then
      sample = fb
    end
  end
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%d,"responses":%d,"duration_us":%d,"bad":%d,"bad_status":%d,'
      .. '"connect":%d,"read":%d,"write":%d,"timeout":%d,'
      .. '"p50_us":%d,"p95_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%.1f,"first_bad":"%s"}\n',
    summary.requests, responses, summary.duration, bad_total, status_total,
    e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max,
    latency.mean, (sample:gsub("%c", " "):gsub('[\\"]', "'"))
  ))
end
