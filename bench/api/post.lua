-- post.lua - wrk script of bench/api/run.sh: POST /v1/scheduler/iso8601,
-- every request a new job (wrk-<thread>-<counter>), scheduled far in the
-- future so nothing runs.  Each answer is 204 once the job is durable; wrk
-- counts any other status under "Non-2xx or 3xx responses".
local threads = 0

function setup(thread)
  thread:set("tid", threads)
  threads = threads + 1
end

local counter = 0
local headers = { ["Content-Type"] = "application/json" }

function request()
  counter = counter + 1
  local body = string.format(
    '{"name":"wrk-%d-%d","command":"echo wrk","schedule":"R/2099-01-01T00:00:00Z/P1D",' ..
    '"owner":"bench@example.com","description":"api benchmark job (wrk)"}', tid, counter)
  return wrk.format("POST", "/v1/scheduler/iso8601", headers, body)
end
