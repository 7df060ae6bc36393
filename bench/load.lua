-- wrk script: `wrk -s bench/load.lua URL -- KIND TOKEN DUE_DATE [PATH IDFILE]`
-- KIND: referral (POST a referral with a unique Idempotency-Key and family name),
--       baseline (POST a small item), get (GET the URL with the token),
--       pick (GET PATH with its {id} replaced by a random line of IDFILE, with the token).
local threads = {}
local counter = 0

function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  kind = args[1]
  token = args[2] or ""
  due = args[3] or "2027-05-01"
  path = args[4]
  ids = {}
  if args[5] then
    for line in io.lines(args[5]) do
      if #line > 0 then table.insert(ids, line) end
    end
  end
  math.randomseed(os.time() + tid * 7919)
end

local function referral(key)
  return '{"client":{"givenName":"Bench","familyName":"Load' .. key ..
    '","birthDate":"2001-04-02","phone":"+31612345678","address":{"postcode":"3073 AB","houseNumber":"12","city":"Rotterdam"}},' ..
    '"pregnancy":{"pregnant":true,"dueDate":"' .. due .. '","firstChild":true},"children":[],' ..
    '"concerns":["debts","housing_problem","stress"],"safetyConcern":false,"narrative":"Benchmark referral.",' ..
    '"referrer":{"professionalName":"Bench","role":"midwife"},' ..
    '"consent":{"clientConsented":true,"obtainedAt":"2026-11-20T10:00:00+01:00","method":"verbal",' ..
    '"scopes":["processing","share_with_programme","feedback_to_referrer"]}}'
end

function request()
  counter = counter + 1
  local key = string.format("%d-%d-%d", tid, counter, math.random(1, 1000000000))
  if kind == "referral" then
    return wrk.format("POST", nil, {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token,
      ["Idempotency-Key"] = key}, referral(key))
  elseif kind == "baseline" then
    return wrk.format("POST", nil, {["Content-Type"] = "application/json"},
      '{"name":"item ' .. key .. '","value":' .. counter .. '}')
  elseif kind == "pick" then
    local id = ids[math.random(1, #ids)]
    return wrk.format("GET", (path:gsub("{id}", id)), {["Authorization"] = "Bearer " .. token})
  else
    return wrk.format("GET", nil, {["Authorization"] = "Bearer " .. token})
  end
end

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    'RESULT {"requests":%d,"seconds":%.3f,"rps":%.1f,"p50Ms":%.2f,"p99Ms":%.2f,"non2xx":%d,"socketErrors":%d}\n',
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, errors.status,
    errors.connect + errors.read + errors.write + errors.timeout))
end
