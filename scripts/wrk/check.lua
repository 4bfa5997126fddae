-- wrk script for the check benchmark (scripts/bench-checks.sh):
--   wrk ... -s scripts/wrk/check.lua URL -- CODES_FILE TOKEN [MATTER]
-- POSTs {"code":…,"matter":…,"purpose":"bench"} to /api/v1/checks with a Bearer token,
-- each request with a code drawn at random from CODES_FILE (one a line; the listed share
-- as in the data). Without arguments it sends plain GETs (the nginx peer). Prints one
-- machine-readable line at the end: "RESULT rps=… p50_ms=… p90_ms=… p99_ms=… …".

local codes = {}
local token, matter
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("tid", counter)
end

function init(args)
  math.randomseed(os.time() * 1000 + (tid or 0))
  if args[1] then
    for line in io.lines(args[1]) do
      if #line > 0 then codes[#codes + 1] = line end
    end
    token = args[2]
    matter = args[3] or "government_procurement"
  end
end

function request()
  if #codes == 0 then
    return wrk.format("GET")
  end
  local code = codes[math.random(#codes)]
  local body = '{"code":"' .. code .. '","matter":"' .. matter .. '","purpose":"bench"}'
  return wrk.format("POST", "/api/v1/checks", {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. token,
  }, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "RESULT rps=%.0f p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f max_ms=%.3f requests=%d non2xx=%d errors=%d\n",
    summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, summary.requests, e.status, e.connect + e.read + e.write + e.timeout))
end
