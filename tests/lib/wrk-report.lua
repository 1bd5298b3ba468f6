-- SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
-- wrk script: prints one machine-readable line "WRK_JSON {...}" at the end,
-- with every error class (wrk's text report omits the zero ones).
--
-- With WRK_EXPECT="safe1 safe2 risky1" in the environment, every response
-- body is also checked to be exactly one of those names plus "\n", and
-- counted per name: a truncated, empty or foreign body counts as bad.
-- Without it no body is looked at, so the bench measures wrk, not Lua.
--
-- With WRK_ALTERNATE=1, every other request carries "x-my-header: dark"
-- (the count is per thread: with one connection per thread, -t N -c N,
-- each connection alternates strictly).  With WRK_EXPECT as well, requests
-- go to /echo, which answers "POD HEADER", so each answer is checked
-- against its own request: a dark one must come from risky1, the others
-- from any of WRK_EXPECT.  Bodies are counted as "POD/dark" and "POD/plain".
-- Without WRK_EXPECT the URL is the caller's and no body is looked at (the
-- bench's timed runs).

local expect = os.getenv("WRK_EXPECT")
local alternate = os.getenv("WRK_ALTERNATE") == "1"
local threads = {}

-- WRK_ALTERNATE=none builds each request in Lua too, never with the header:
-- the same client cost as the alternation, for a run to compare with it.
if alternate or os.getenv("WRK_ALTERNATE") == "none" then
	local sent = alternate and 0 or 1
	-- /echo when bodies are checked; else the path of the URL given.
	local path = expect and "/echo" or nil
	function request()
		if alternate then sent = sent + 1 end
		if sent % 2 == 0 then
			return wrk.format("GET", path, { ["x-my-header"] = "dark" })
		end
		return wrk.format("GET", path)
	end
end

function setup(thread)
	table.insert(threads, thread)
end

if expect then
	local names = {}
	for name in string.gmatch(expect, "%S+") do
		names[name .. "\n"] = name
	end

	function init(args)
		counts = {}
		bad = 0
		bad_sample = ""
	end

	-- The pod's name, suffixed "/dark" or "/plain" under WRK_ALTERNATE; nil if wrong.
	local function answer(body)
		if not alternate then
			return names[body]
		end
		local pod, hdr = string.match(body, "^(%S+) (%S*)\n$")
		if not pod or not names[pod .. "\n"] or (hdr ~= "" and hdr ~= "dark") then
			return nil
		end
		if hdr == "dark" then
			return pod == "risky1" and "risky1/dark" or nil
		end
		return pod .. "/plain"
	end

	function response(status, headers, body)
		local name = answer(body or "")
		if status == 200 and name then
			counts[name] = (counts[name] or 0) + 1
		else
			bad = bad + 1
			if bad_sample == "" then
				bad_sample = string.format("status %d body \"%s\"", status, string.sub(body or "", 1, 40))
			end
		end
	end
end

local function json_string(s)
	return '"' .. string.gsub(s, '[%c"\\]', function(c)
		return string.format("\\u%04x", string.byte(c))
	end) .. '"'
end

function done(summary, latency, requests)
	local e = summary.errors
	local bodies, bad_total, sample = {}, 0, ""
	for _, t in ipairs(threads) do
		local c = t:get("counts")
		if c then
			for name, n in pairs(c) do
				bodies[name] = (bodies[name] or 0) + n
			end
			bad_total = bad_total + t:get("bad")
			if sample == "" then sample = t:get("bad_sample") end
		end
	end
	local parts = {}
	for name, n in pairs(bodies) do
		table.insert(parts, string.format("%s:%d", json_string(name), n))
	end
	io.write(string.format(
		'WRK_JSON {"requests":%d,"duration_us":%d,"bytes":%d,' ..
		'"rps":%.1f,"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
		'"latency_us":{"p50":%d,"p90":%d,"p99":%d,"mean":%.1f,"max":%d},' ..
		'"checked":%s,"bodies":{%s},"bad_bodies":%d,"bad_sample":%s}\n',
		summary.requests, summary.duration, summary.bytes,
		summary.requests / (summary.duration / 1e6),
		e.connect, e.read, e.write, e.status, e.timeout,
		latency:percentile(50), latency:percentile(90), latency:percentile(99),
		latency.mean, latency.max,
		expect and "true" or "false", table.concat(parts, ","), bad_total,
		json_string(sample)))
end
