-- wrk script for every REST benchmark: one fixed request, configured by the environment:
--   BENCH_METHOD (GET), BENCH_PATH (/), BENCH_TOKEN (Bearer token, optional),
--   BENCH_BODY (JSON body, optional).
-- Counts responses by status and those carrying Retry-After, and prints one JSON line
-- "RESULT {...}" at the end (latencies in microseconds) that bench/rest/run.py reads.
local method = os.getenv("BENCH_METHOD") or "GET"
local path = os.getenv("BENCH_PATH") or "/"
local token = os.getenv("BENCH_TOKEN") or ""
local body = os.getenv("BENCH_BODY") or ""

local threads = {}
function setup(thread)
  table.insert(threads, thread)
end

local req
function init(args)
  local headers = {}
  if token ~= "" then headers["Authorization"] = "Bearer " .. token end
  if body ~= "" then headers["Content-Type"] = "application/json" end
  req = wrk.format(method, path, headers, body ~= "" and body or nil)
  statuses = {}
  retry_after = 0
end

function request()
  return req
end

function response(status, headers, _)
  statuses[status] = (statuses[status] or 0) + 1
  for name, _ in pairs(headers) do
    if string.lower(name) == "retry-after" then retry_after = retry_after + 1 end
  end
end

function done(summary, latency, _)
  local counts, ra = {}, 0
  for _, t in ipairs(threads) do
    for s, n in pairs(t:get("statuses")) do counts[s] = (counts[s] or 0) + n end
    ra = ra + t:get("retry_after")
  end
  local parts = {}
  for s, n in pairs(counts) do table.insert(parts, string.format('"%d": %d', s, n)) end
  local e = summary.errors
  io.write(string.format(
    'RESULT {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, "max_us": %d, ' ..
    '"mean_us": %.1f, "socket_errors": %d, "timeouts": %d, "non2xx": %d, "retry_after": %d, ' ..
    '"statuses": {%s}}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    latency.max, latency.mean, e.connect + e.read + e.write, e.timeout, e.status, ra,
    table.concat(parts, ", ")))
end
