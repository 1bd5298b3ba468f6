#!/usr/bin/env bats
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# The probes (127.0.0.1:9808 by default with --kube): /healthz answers while
# the API server is away, /readyz only once the first sync is in the maps,
# and both keep answering under slow clients.  --metrics-listen: /metrics
# has the per-subset counters and the watch's own state, on its own port,
# where a flood holds one address to its limit until the idle timeout.

source "$BATS_TEST_DIRNAME/kube.bash"

setup_file() {
	kube_setup_file || return 1
	export HL="127.0.0.1:9808"	# the default: the node netns is ours alone
	export MP=$((20000 + RANDOM % 20000))
	kapi_stop	# kanaryd starts before the API server is reachable
	KANARY_PIN_PATH="$KN_PIN" ip netns exec "$KN_NODE" "$KANARYD" \
		--kubeconfig "$KAPI_DIR/kubeconfig" --iface 'h-*' --metrics-listen "0.0.0.0:$MP" --istio-metrics --ct-linger-ms 4000 -v \
		3>&- 2>>"$KD_LOG" &
	KD_PID=$!
	export KD_PID
	echo "$KD_PID" >"$KN_TMP/kanaryd.pid"
}
teardown_file() { kube_teardown_file; }

# u32le V / u64le V...: values as the little-endian bytes bpftool takes.
u32le() { printf '%d %d %d %d' $(($1 & 255)) $(($1 >> 8 & 255)) $(($1 >> 16 & 255)) $(($1 >> 24 & 255)); }
u64le() {
	local v
	for v; do printf '%s 0 0 0 0 ' "$(u32le "$v")"; done
}

# hget PATH: the HTTP code from the probes' listener, seen from the node
# netns (the body in $BATS_TEST_TMPDIR/body); 000 when it did not answer
# within a probe's default timeout, 1 s.
hget() {
	ip netns exec "$KN_NODE" curl -s --max-time 1 -o "$BATS_TEST_TMPDIR/body" -w '%{http_code}' "http://$HL$1"
}
# mget [ADDR]: the same for /metrics, on 127.0.0.1 or ADDR (the client's address too).
mget() {
	ip netns exec "$KN_NODE" curl -s --max-time 5 -o "$BATS_TEST_TMPDIR/body" -w '%{http_code}' \
		"http://${1:-127.0.0.1}:$MP/metrics"
}

# slow_start PORT N SRC...: N connections from the node netns to
# 127.0.0.1:PORT, from the source addresses SRC in turn, each sending half a
# request and holding it.  Prints nothing; slow_open says how many of them
# the server still holds open.  $SLOW_PID, $SLOW_OUT.
slow_start() {
	SLOW_OUT="$BATS_TEST_TMPDIR/slow.$1"
	ip netns exec "$KN_NODE" python3 -u -c '
import signal, socket, sys, time
port, n, srcs = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3:]
socks = []
for i in range(n):
    s = socket.socket()
    s.bind((srcs[i % len(srcs)], 0))
    s.connect(("127.0.0.1", port))
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: kanaryd\r\n")  # no blank line: never complete
    socks.append(s)
def still_open():
    k = 0
    for s in socks:
        try:
            k += s.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) != b""
        except BlockingIOError:
            k += 1
        except OSError:
            pass
    return k
signal.signal(signal.SIGUSR1, lambda *_: print("open", still_open()))
print("held", n)
for _ in range(600):
    time.sleep(0.1)
' "$@" >"$SLOW_OUT" 2>&1 &
	SLOW_PID=$!
	for _ in $(seq 50); do grep -q '^held' "$SLOW_OUT" && return 0; sleep 0.1; done
	echo "the slow clients did not connect:" >&2
	cat "$SLOW_OUT" >&2
	return 1
}
slow_open() {
	local before
	before=$(grep -c '^open' "$SLOW_OUT")
	kill -USR1 "$SLOW_PID"
	for _ in $(seq 50); do
		(($(grep -c '^open' "$SLOW_OUT") > before)) && break
		sleep 0.1
	done
	sed -n 's/^open //p' "$SLOW_OUT" | tail -1
}
slow_stop() { kill "$SLOW_PID" 2>/dev/null; wait "$SLOW_PID" 2>/dev/null || true; }

@test "without the API server: alive, not ready, and says why" {
	local code
	for _ in $(seq 50); do code=$(hget /healthz) && break; sleep 0.1; done
	expect_eq "$code" 200 "/healthz"
	expect_eq "$(hget /readyz)" 503 "/readyz before the first sync"
	grep -q "waiting for the first list" "$BATS_TEST_TMPDIR/body" || { cat "$BATS_TEST_TMPDIR/body" >&2; return 1; }
	expect_eq "$(hget /nope)" 404 "an unknown path"
	expect_eq "$(hget /metrics)" 404 "/metrics on the probes' port"
}

@test "the API server comes: ready once the maps hold the split" {
	kapi_start "$KAPI_DIR"
	for _ in $(seq 150); do [[ $(hget /readyz) == 200 ]] && break; sleep 0.1; done
	expect_eq "$(hget /readyz)" 200 "/readyz after the first sync"
	expect_eq "$(kd_weights "$KD_SERVICE")" "safe=80 risky=20" "weights in the maps once ready"
}

@test "kanaryctl status names the API server as the source" {
	local server
	server=$(awk '$1 == "server:" { print $2; exit }' "$KAPI_DIR/kubeconfig")
	[[ -n $server ]] || { echo "no server: line in $KAPI_DIR/kubeconfig" >&2; return 1; }
	run kctl status
	[ "$status" -eq 0 ] || { echo "$output"; return 1; }
	[[ "$output" == *"source: Kubernetes API $server ("* ]] || { echo "$output"; return 1; }
}

@test "/metrics: subset counters follow the traffic, and the watch's state is there" {
	local before after
	expect_eq "$(mget)" 200 "/metrics"
	before=$(sed -n 's/^kanary_subset_connections_total{service="default\/greeting",subset="risky"} //p' "$BATS_TEST_TMPDIR/body")
	[[ -n $before ]] || { echo "no risky connections metric:" >&2; cat "$BATS_TEST_TMPDIR/body" >&2; return 1; }
	measure 500
	mget >/dev/null
	after=$(sed -n 's/^kanary_subset_connections_total{service="default\/greeting",subset="risky"} //p' "$BATS_TEST_TMPDIR/body")
	expect_eq "$((after - before))" "${SERVED[risky1]}" "risky connections counted by /metrics"
	grep -qx 'kanaryd_kube_objects{resource="pods"} 4' "$BATS_TEST_TMPDIR/body"
	grep -qx 'kanaryd_kube_synced{resource="virtualservices"} 1' "$BATS_TEST_TMPDIR/body"
	grep -qx 'kanaryd_ready 1' "$BATS_TEST_TMPDIR/body"
	grep -qx 'kanary_subset_weight{service="default/greeting",subset="safe"} 80' "$BATS_TEST_TMPDIR/body"
	grep -q '^# TYPE kanary_subset_connections_total counter$' "$BATS_TEST_TMPDIR/body"
	grep -q '^kanary_subset_rule_connections_total{service="default/greeting",subset="risky"} [0-9][0-9]*$' "$BATS_TEST_TMPDIR/body"
	grep -q '^kanary_handoff_failures_total{service="default/greeting",reason="backend_refused"} 0$' "$BATS_TEST_TMPDIR/body"
	# --ct-linger-ms reached the datapath's settings; the SYN timeout kept its default.
	grep -qx 'kanary_ct_timeout_seconds{state="closed"} 4.000' "$BATS_TEST_TMPDIR/body"
	grep -qx 'kanary_ct_timeout_seconds{state="syn_sent"} 60.000' "$BATS_TEST_TMPDIR/body"
	grep -q '^kanary_ct_sweeps_total [0-9][0-9]*$' "$BATS_TEST_TMPDIR/body"
}

@test "/metrics: request, switch and pinned counters, by the names of kanaryctl stats" {
	local id ncpu b=$BATS_TEST_TMPDIR/body
	id=$(kctl -j service list | jq -r '.[] | select(.service == "default/greeting") | .id')
	[[ $id =~ ^[0-9]+$ ]] || { echo "no id for default/greeting: '$id'" >&2; return 1; }
	ncpu=$(bpftool -j map lookup pinned "$KN_PIN/kanary_hostat_v2" key $(u32le "$id") | jq '.values | length')
	# struct kanary_subset_stats of subset 0 (KANARY_STATS_INDEX: id * 8 + 0):
	# requests 17, rule_requests 19 per CPU.  Handoff counters: backend_silent 4,
	# switches 6, switch_failed 8, pinned[] 99 in the unused slot 0, pipelined 9,
	# unframed 10.
	bpftool map update pinned "$KN_PIN/kanary_stat_v3" key $(u32le $((id * 8))) value \
		$(u64le 0 0 0 0 0 0 17 19)
	bpftool map update pinned "$KN_PIN/kanary_hostat_v2" key $(u32le "$id") value \
		$(u64le 0 4 0 0 0 0 6 8 99 9 0 0 0 0 0 10)
	expect_eq "$(mget)" 200 "/metrics"
	local sub
	sub=$(kctl -j stats default/greeting | jq -r '.[0].subsets[0].name')
	grep -qx "kanary_subset_requests_total{service=\"default/greeting\",subset=\"$sub\"} $((17 * ncpu))" "$b"
	grep -qx "kanary_subset_rule_requests_total{service=\"default/greeting\",subset=\"$sub\"} $((19 * ncpu))" "$b"
	grep -qx '# TYPE kanary_subset_requests_total counter' "$b"
	grep -qx "kanary_handoff_failures_total{service=\"default/greeting\",reason=\"backend_silent\"} $((4 * ncpu))" "$b"
	grep -qx "kanary_handoff_switches_total{service=\"default/greeting\"} $((6 * ncpu))" "$b"
	grep -qx "kanary_handoff_switch_failures_total{service=\"default/greeting\"} $((8 * ncpu))" "$b"
	grep -qx "kanary_handoff_pinned_total{service=\"default/greeting\",reason=\"pipelined\"} $((9 * ncpu))" "$b"
	grep -qx "kanary_handoff_pinned_total{service=\"default/greeting\",reason=\"head_split\"} 0" "$b"
	grep -qx "kanary_handoff_pinned_total{service=\"default/greeting\",reason=\"unframed\"} $((10 * ncpu))" "$b"
	# Only the six failure reasons are failures; slot 0 of pinned[] is never shown.
	expect_eq "$(grep -c '^kanary_handoff_failures_total{service="default/greeting"' "$b")" 6 "failure reasons"
	expect_eq "$(grep -c '^kanary_handoff_pinned_total{service="default/greeting"' "$b")" 7 "pinned reasons"
	! grep -q "^kanary_handoff_.* $((99 * ncpu))\$" "$b"
}

@test "/metrics: HTTP exchanges by code and their latency histogram, per namespace, service, subset" {
	local id sub b=$BATS_TEST_TMPDIR/body l
	id=$(kctl -j service list | jq -r '.[] | select(.service == "default/greeting") | .id')
	[[ $id =~ ^[0-9]+$ ]] || { echo "no id for default/greeting: '$id'" >&2; return 1; }
	sub=$(kctl -j stats default/greeting | jq -r '.[0].subsets[0].name')
	# struct kanary_http_stats of subset 0: 10 exchanges, 1 unanswered, 2
	# connections not HTTP, latencies summing to 4321 us; responses 200 x6,
	# 404 and 5xx (codes[30], the class of the rare ones) x2; all 9 in the
	# bucket of 0.7-1 ms (latency[8]).
	local -a codes lat
	codes=($(for i in $(seq 0 31); do echo 0; done))
	lat=($(for i in $(seq 0 39); do echo 0; done))
	codes[0]=6 codes[13]=1 codes[30]=2 lat[8]=9
	bpftool map update pinned "$KN_PIN/kanary_http_v1" key $(u32le $((id * 8))) value \
		$(u64le 10 1 2 4321 "${codes[@]}" "${lat[@]}")
	expect_eq "$(mget)" 200 "/metrics"
	l="namespace=\"default\",service=\"greeting\",subset=\"$sub\""
	grep -qx "kanary_http_requests_total{$l,code=\"200\"} 6" "$b"
	grep -qx "kanary_http_requests_total{$l,code=\"404\"} 1" "$b"
	grep -qx "kanary_http_requests_total{$l,code=\"5xx\"} 2" "$b"
	grep -qx "kanary_http_requests_total{$l,code=\"0\"} 1" "$b"
	# Codes never seen are not series: the label set stays what happened.
	! grep -q "kanary_http_requests_total{$l,code=\"503\"}" "$b"
	grep -qx "kanary_http_request_duration_seconds_bucket{$l,le=\"0.0007\"} 0" "$b"
	grep -qx "kanary_http_request_duration_seconds_bucket{$l,le=\"0.001\"} 9" "$b"
	grep -qx "kanary_http_request_duration_seconds_bucket{$l,le=\"60\"} 9" "$b"
	grep -qx "kanary_http_request_duration_seconds_bucket{$l,le=\"+Inf\"} 9" "$b"
	grep -qx "kanary_http_request_duration_seconds_count{$l} 9" "$b"
	grep -qx "kanary_http_request_duration_seconds_sum{$l} 0.004321" "$b"
	grep -qx "kanary_http_other_connections_total{$l} 2" "$b"
	grep -qx '# TYPE kanary_http_request_duration_seconds histogram' "$b"
	expect_eq "$(grep -c "^kanary_http_request_duration_seconds_bucket{$l," "$b")" 39 "buckets"
	# The same as Istio's families (--istio-metrics), named after the pod's
	# Deployment (greeting-safe-7c9d8b6f4d-2xkqp's ReplicaSet less its hash).
	local i
	i=$(grep -o '^istio_requests_total{[^}]*destination_workload="greeting-safe"[^}]*response_code="200"} [0-9]*$' "$b") ||
		{ echo "no istio_requests_total for greeting-safe:" >&2; grep '^istio_' "$b" >&2; return 1; }
	[[ $i == *' 6' ]] || { echo "istio 200s: $i" >&2; return 1; }
	local want
	for want in 'reporter="destination"' 'destination_workload_namespace="default"' 'destination_version="safe"' \
		'destination_service="greeting.default.svc.cluster.local"' 'destination_service_name="greeting"' \
		'destination_app="greeting"'; do
		[[ $i == *"$want"* ]] || { echo "no $want in: $i" >&2; return 1; }
	done
	grep -q '^istio_requests_total{[^}]*destination_workload="greeting-safe"[^}]*response_code="0"} 1$' "$b"
	grep -q '^istio_request_duration_milliseconds_bucket{[^}]*destination_workload="greeting-safe"[^}]*le="1"} 9$' "$b"
	grep -q '^istio_request_duration_milliseconds_sum{[^}]*destination_workload="greeting-safe"[^}]*} 4.321000$' "$b"
	grep -qx '# TYPE istio_request_duration_milliseconds histogram' "$b"
	# One series per code and workload: the families are not interleaved.
	expect_eq "$(grep -c '^# TYPE istio_requests_total ' "$b")" 1 "istio_requests_total families"
	expect_eq "$(awk '/^istio_requests_total/ { a = NR } /^istio_request_duration/ && !d { d = NR } END { print (a < d) }' "$b")" 1 "istio_requests_total before the histogram"
}

# Answers counted, not timed: each probe has curl's 1 s, the kubelet's default.
@test "64 slow clients from one and from many addresses: every probe still answers 200" {
	local ok=0 i
	for _ in $(seq 50); do [[ $(hget /healthz) == 200 ]] && break; sleep 0.1; done
	slow_start 9808 64 127.0.0.1 127.0.0.2 127.0.0.3 127.0.0.4 || return 1
	for i in $(seq 10); do
		[[ $(hget /healthz) == 200 ]] && ok=$((ok + 1))
		[[ $(hget /readyz) == 200 ]] && ok=$((ok + 1))
	done
	local open
	open=$(slow_open)
	slow_stop
	expect_eq "$ok" 20 "probes answered 200 of 20"
	expect_eq "$open" 64 "slow clients still held open after the probes"
}

@test "a flood on /metrics: probes answer, other addresses scrape, and it is dropped after the timeout" {
	local ok=0 i node_ip code open
	node_ip=$(ip -n "$KN_NODE" -4 -o addr show scope global | awk '{ sub("/.*", "", $4); print $4; exit }')
	[[ -n $node_ip ]] || { echo "no global address in $KN_NODE" >&2; return 1; }
	slow_start "$MP" 64 127.0.0.1 || return 1
	for i in $(seq 10); do
		[[ $(hget /healthz) == 200 ]] && ok=$((ok + 1))
	done
	expect_eq "$ok" 10 "probes answered 200 of 10 during the flood on /metrics"
	expect_eq "$(mget "$node_ip")" 200 "/metrics from $node_ip during the flood from 127.0.0.1"
	expect_eq "$(slow_open)" 4 "connections 127.0.0.1 holds (the per-address limit)"
	# The idle timeout is 10 s: scrapes from 127.0.0.1 answer again within 20.
	for _ in $(seq 40); do
		code=$(mget) || true	# 000 while refused
		[[ $code == 200 ]] && break
		sleep 0.5
	done
	open=$(slow_open)
	slow_stop
	expect_eq "$code" 200 "/metrics from 127.0.0.1 after the slow clients' timeout"
	expect_eq "$open" 0 "slow clients the server still holds after its timeout"
}
