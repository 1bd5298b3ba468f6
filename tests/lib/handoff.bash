# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# shellcheck shell=bash
#
# Shared by tests/e2e/handoff/*.bats: the e2e cluster and its greeting
# service (safe1 safe2 / risky1, 80/20) with the dark-release rule
# "x-my-header: dark -> risky", which puts greeting on kanary's TCP handoff
# path.  Beside it, "plain" (another VIP, no rules, only backend risky1):
# the same request against both compares the handoff with plain DNAT.
# Also: what the handoff leaves behind (kanary_ho_v4 entries, its
# counters, the TCP options of a handed-off connection), an upload sink
# service ("bulk", port 8080), and packet drops inside a pod's netns.

# shellcheck source=tests/lib/e2e.bash
source "$(dirname "${BASH_SOURCE[0]}")/e2e.bash"

export HO_HEADER='x-my-header: dark'
export KN_PLAIN_VIP=10.96.0.11
export KN_PLAIN_URL="http://$KN_PLAIN_VIP:$KN_VIP_PORT/"
export KN_BULK_PORT=8080
export KN_BULK_URL="http://$KN_VIP:$KN_BULK_PORT/"
HO_PYTHON=/usr/bin/python3
# What the receivers must never count: bad checksums, PAWS drops.
HO_DROP_COUNTERS=(TcpInCsumErrors TcpExtPAWSActive TcpExtPAWSEstab TcpExtPAWSOldAck TcpExtPAWSTimewait)

handoff_check_env() {
	local c missing=()
	for c in "$HO_PYTHON" bpftool nft openssl dd; do
		command -v "$c" >/dev/null || missing+=("$c")
	done
	if ((${#missing[@]})); then
		echo "handoff e2e: missing commands: ${missing[*]} (run 'make deps')" >&2
		return 1
	fi
}

# The cluster, greeting with its rule, and plain.  KN_BIG_MB as for cluster_up.
handoff_setup_file() {
	handoff_check_env || return 1
	e2e_setup_file || return 1
	kctl route add greeting header x-my-header=dark to risky >/dev/null ||
		{ echo "handoff e2e: kanaryctl route add greeting failed" >&2; return 1; }
	plain_service >/dev/null || { echo "handoff e2e: setting up service plain failed" >&2; return 1; }
}

# plain_service: the service plain, no rules, risky1 alone.
plain_service() {
	kctl service add plain "$KN_PLAIN_VIP:$KN_VIP_PORT" && kctl backend add plain risky "$(pod_ip risky1):80"
}

# ---- traffic ----

# ka_client ARG...: tests/lib/keepalive_client.py from the client.
ka_client() {
	in_ns client "$HO_PYTHON" "$KN_LIB_DIR/keepalive_client.py" "$@"
}

# conns_each URL N PAR [CURL_ARG...]: conns with one curl process per
# request, for lossy links: there curl -Z (7.88) leaves finished transfers
# hanging for tens of seconds, on the plain path too.
conns_each() {
	local url=$1 n=$2 par=$3
	shift 3
	[[ $n =~ ^[1-9][0-9]*$ ]] || { echo "conns_each: count must be a positive integer, got '$n'" >&2; return 1; }
	seq "$n" | timeout --foreground $((60 + n / 5)) ip netns exec "$(ns_of client)" \
		xargs -P "$par" -I{} curl --no-progress-meter --fail --retry 0 --max-time 30 \
		-H 'Connection: close' "$@" "$url?n={}"
}

# sha_stdin: sha256 of stdin (openssl: several times faster than sha256sum here).
sha_stdin() {
	openssl dgst -sha256 -r | cut -d' ' -f1
}

# fetch_sha URL [CURL_ARG...]: downloads URL from the client on a new
# connection; prints the sha256 of the body.  Fails as curl did.
fetch_sha() {
	local url=$1 sum
	shift
	sum=$(in_ns client curl -sS --fail --retry 0 --max-time 120 -H 'Connection: close' "$@" "$url" | sha_stdin
		exit "${PIPESTATUS[0]}") || { echo "fetch_sha: curl $* $url failed (exit $?)" >&2; return 1; }
	echo "$sum"
}

# upload FILE URL [CURL_ARG...]: PUTs FILE to the bulk service from the
# client; prints the sink's answer "POD SHA256 LENGTH".  No "Expect:
# 100-continue": the body follows the request head at once, so the first
# flight the handoff must hold is full.
upload() {
	local file=$1 url=$2
	shift 2
	in_ns client curl -sS --fail --retry 0 --max-time 120 -H 'Connection: close' -H 'Expect:' \
		"$@" -T "$file" "$url" || { echo "upload: curl -T $file $* $url failed" >&2; return 1; }
}

# expect_upload ANSWER FILE_SHA FILE_BYTES WHAT [POD]: the sink got the
# whole file (and it was POD that got it, when given).
expect_upload() {
	local pod sha len
	read -r pod sha len <<<"$1"
	expect_eq "$sha $len" "$2 $3" "sha256 and length the sink saw, $4" || return 1
	[[ -z ${5:-} ]] || expect_eq "$pod" "$5" "pod that received the upload, $4"
}

# neighbour_connects N [WHEN]: N rounds of new connections from the client, each
# round one on the rule path with the dark header, one without, and one on the
# plain path; fails at the first that fails, saying which (and WHEN).
neighbour_connects() {
	local i
	for i in $(seq "$1"); do
		in_ns client curl -sf -o /dev/null --max-time 5 -H 'x-my-header: dark' "$KN_VIP_URL" ||
			{ echo "FAIL: new rule-path connection $i (dark) failed${2:+ $2}" >&2; return 1; }
		in_ns client curl -sf -o /dev/null --max-time 5 "$KN_VIP_URL" ||
			{ echo "FAIL: new rule-path connection $i failed${2:+ $2}" >&2; return 1; }
		in_ns client curl -sf -o /dev/null --max-time 5 "http://$KN_PLAIN_VIP:$KN_VIP_PORT/" ||
			{ echo "FAIL: new plain-path connection $i failed${2:+ $2}" >&2; return 1; }
	done
}

# probe ARG...: tests/lib/http_probe.py from the client (one request on one
# connection, the answer and the TCP options as JSON).
probe() {
	in_ns client "$HO_PYTHON" "$KN_LIB_DIR/http_probe.py" "$@"
}

# www_random NAME MIB: a random file the server pods serve as /NAME (and
# the client can upload); prints its sha256.  Goes with cluster_down.
www_random() {
	local f="$KN_TMP/www/$1" avail
	avail=$(df --output=avail -BM "$KN_TMP" | tail -1)
	avail=${avail%M}
	if ((avail < $2 + 512)); then
		echo "www_random: $1 needs $2 MiB, only ${avail} MiB free under $KN_TMP" >&2
		return 1
	fi
	dd if=/dev/urandom bs=1M count="$2" iflag=fullblock status=none | tee "$f" | sha_stdin
	((PIPESTATUS[0] == 0 && PIPESTATUS[1] == 0)) || { echo "www_random: writing $f failed" >&2; return 1; }
	chmod 644 "$f"
}

# ---- the handoff's own state ----

# How the handoff shows on a connection: it strips TCP timestamps and SACK
# from the handshakes it makes (issue 4), while plain DNAT leaves the
# pod's own (Linux: both on).  tcp_options HOST PORT [PROBE_ARG...] prints
# "timestamps=B sack=B" for one request.
tcp_options() {
	local out
	out=$(probe "$@") || { echo "tcp_options: probe $* failed: $out" >&2; return 1; }
	jq -er '"timestamps=\(.options.timestamps) sack=\(.options.sack)"' <<<"$out"
}

# expect_handed_off HOST PORT [PROBE_ARG...]: the connection went through
# the handoff (a service with rules: with the header or without).
expect_handed_off() {
	local what="$1:$2${3:+ (${*:3})}"
	expect_eq "$(tcp_options "$@")" "timestamps=false sack=false" \
		"TCP options on a connection to $what: the handoff strips both; on means plain DNAT served it"
}

# expect_plain_dnat HOST PORT: the connection was plain DNAT (no rules).
expect_plain_dnat() {
	expect_eq "$(tcp_options "$@")" "timestamps=true sack=true" \
		"TCP options on a connection to $1:$2: a service without rules keeps the pod's own"
}

# ho_entries: connections the handoff tracks now, from the pinned kanary_ho_v4.
ho_entries() {
	local map="$KN_PIN/kanary_ho_v4" out
	if [[ ! -e $map ]]; then
		echo "ho_entries: $map does not exist: this kanary has no TCP handoff datapath (its state map kanary_ho_v4)" >&2
		return 1
	fi
	out=$(bpftool -j map dump pinned "$map") || { echo "ho_entries: bpftool map dump pinned $map failed" >&2; return 1; }
	jq -e 'length' <<<"$out"
}

# expect_ho_drained [SECONDS]: once traffic has ended, its connections'
# handoff state goes within SECONDS (default 10): polls, then shows some.
expect_ho_drained() {
	local secs=${1:-10} n end
	end=$((SECONDS + secs))
	while :; do
		n=$(ho_entries) || return 1
		((n == 0)) && { echo "ok: kanary_ho_v4 is empty"; return 0; }
		((SECONDS >= end)) && break
		sleep 0.2
	done
	echo "FAIL: kanary_ho_v4 still holds $n entries ${secs} s after the connections ended; the first ones:" >&2
	bpftool -j map dump pinned "$KN_PIN/kanary_ho_v4" | jq -c '.[:3]' >&2
	return 1
}

# handoff_stat SERVICE FIELD: one of the service's handoff failure counters
# (backend_refused, backend_silent, beyond_first_flight, stash_lost, no_backend).
handoff_stat() {
	local json
	json=$(kctl -j stats "$1") || return 1
	jq -er --arg svc "$1" --arg f "$2" '.[] | select(.service == $svc) | .handoff[$f] | numbers' <<<"$json" || {
		echo "handoff_stat: no numeric handoff.$2 for service '$1' in: $json" >&2
		return 1
	}
}

# drop_counters POD: "NAME=VALUE ..." for HO_DROP_COUNTERS in the pod's netns.
drop_counters() {
	in_ns "$1" nstat -saz "${HO_DROP_COUNTERS[@]}" | awk -v want="${HO_DROP_COUNTERS[*]}" -v pod="$1" '
		{ v[$1] = $2 }
		END {
			n = split(want, w, " ")
			for (i = 1; i <= n; i++) {
				if (!(w[i] in v)) { print "drop_counters: nstat in " pod " has no " w[i] > "/dev/stderr"; exit 1 }
				printf "%s%s=%s", (i > 1 ? " " : ""), w[i], v[w[i]]
			}
			print ""
		}'
}

# ---- pods ----

# upload_server_start POD: tests/lib/upload_server.py on the pod's port
# KN_BULK_PORT (cluster_down stops it with everything in the pod).
upload_server_start() {
	local pod=$1 dir body
	dir=$(nginx_dir "$pod")
	# Not through in_ns: $! must be the server (ip netns exec execs it).
	ip netns exec "$(ns_of "$pod")" "$HO_PYTHON" "$KN_LIB_DIR/upload_server.py" \
		"$pod" "$(pod_ip "$pod")" "$KN_BULK_PORT" </dev/null >>"$dir/upload.log" 2>&1 3>&- &
	echo $! >"$dir/upload.pid"
	for _ in $(seq 50); do
		body=$(in_ns client curl -s --max-time 2 "http://$(pod_ip "$pod"):$KN_BULK_PORT/") && break
		kill -0 "$(cat "$dir/upload.pid")" 2>/dev/null || break
		sleep 0.1
	done
	if [[ $body != "$pod" ]]; then
		echo "upload_server_start: the sink in $pod answered '$body', expected '$pod':" >&2
		cat "$dir/upload.log" >&2
		return 1
	fi
}

# bulk_up: the upload sink in every server pod behind service bulk
# (VIP port KN_BULK_PORT), 80/20 like greeting, with the same rule.
bulk_up() {
	local pod
	for pod in "${KN_SERVER_PODS[@]}"; do
		upload_server_start "$pod" || return 1
	done
	{
		kctl service add bulk "$KN_VIP:$KN_BULK_PORT" &&
			kctl backend add bulk safe "$(pod_ip safe1):$KN_BULK_PORT" &&
			kctl backend add bulk safe "$(pod_ip safe2):$KN_BULK_PORT" &&
			kctl backend add bulk risky "$(pod_ip risky1):$KN_BULK_PORT" &&
			kctl weight set bulk safe 80 risky 20 &&
			kctl route add bulk header x-my-header=dark to risky
	} >/dev/null || { echo "bulk_up: setting up service bulk failed" >&2; return 1; }
}

# pod_nft POD TABLE CHAINS: (re)creates the inet table TABLE in the pod's
# netns with CHAINS (nft syntax); the pod's own firewall, nothing else.
pod_nft() {
	pod_nft_del "$1" "$2"
	in_ns "$1" nft -f - <<EOF
table inet $2 {
$3
}
EOF
}

# pod_nft_del POD TABLE: removes the table if it is there.
pod_nft_del() {
	in_ns "$1" nft list table inet "$2" >/dev/null 2>&1 || return 0
	in_ns "$1" nft delete table inet "$2"
}

# nginx_kill POD: SIGKILL to the pod's nginx, master and workers (as a
# crashed pod): the kernel, not nginx, closes their connections.
nginx_kill() {
	local master pids
	master=$(cat "$(nginx_dir "$1")/nginx.pid") || return 1
	pids=$(pgrep -P "$master")
	# shellcheck disable=SC2086 # one pid per word
	kill -KILL "$master" $pids
	for _ in $(seq 50); do
		pid_running "$master" || return 0
		sleep 0.1
	done
	echo "nginx_kill: nginx $master in $1 still runs" >&2
	return 1
}

# nginx_ensure POD: the pod's nginx runs and answers (after a test stopped
# or killed it).
nginx_ensure() {
	local pid body dir
	dir=$(nginx_dir "$1")
	pid=$(cat "$dir/nginx.pid" 2>/dev/null)
	if [[ -z $pid ]] || ! pid_running "$pid"; then
		nginx_start "$1" || return 1
	fi
	for _ in $(seq 50); do
		body=$(in_ns client curl -s --max-time 2 "http://$(pod_ip "$1")/") && [[ $body == "$1" ]] && return 0
		sleep 0.1
	done
	echo "nginx_ensure: $1 answers '$body'" >&2
	return 1
}
