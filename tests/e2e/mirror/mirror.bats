#!/usr/bin/env bats
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Traffic mirroring (issue 11) on real TCP stacks: kanaryctl mirror set /
# del / show, the datapath's per-request copy and the relay (bin/kanary-mirror)
# in the node.  Service "share" has nginx pods live (safe1, safe2) and a
# recording pod as its mirror (risky1:8080); service "exact" has recording
# pods on both sides (safe1:8080 live, risky1:8081 mirror), so each request
# the mirror got can be compared with the one the live pod got.

source "$BATS_TEST_DIRNAME/../../lib/e2e.bash"
source "$KN_LIB_DIR/greeting.sh"
source "$KN_LIB_DIR/traffic.sh"
source "$KN_LIB_DIR/mirror.bash"

SHARE_VIP=10.96.0.15
EXACT_VIP=10.96.0.16
SHARE_URL="http://$SHARE_VIP:$KN_VIP_PORT/mirror-share"

setup_file() {
	e2e_setup_file || return 1
	local pod dir
	for pod in safe1 safe2 risky1; do
		dir=$(nginx_dir "$pod")
		{
			echo "access_log $dir/access.log;"
			echo 'location = /mirror-share { default_type text/plain; return 200 "ok\n"; }'
		} >"$dir/server.d/mirror.conf" && nginx_reload "$pod" || return 1
	done
	recorder_start safe1 8080 && recorder_start risky1 8081 || return 1
	{
		kctl service add share "$SHARE_VIP:$KN_VIP_PORT" &&
			kctl backend add share live "$(pod_ip safe1):80" &&
			kctl backend add share live "$(pod_ip safe2):80" &&
			kctl backend add share shadow "$(pod_ip risky1):80" &&
			kctl weight set share live 100 shadow 0 &&
			kctl service add exact "$EXACT_VIP:$KN_VIP_PORT" &&
			kctl backend add exact live "$(pod_ip safe1):8080" &&
			kctl backend add exact shadow "$(pod_ip risky1):8081" &&
			kctl weight set exact live 100 shadow 0
	} >/dev/null || { echo "setting up the services failed" >&2; return 1; }
	relay_start
}
teardown_file() { relay_stop; e2e_teardown_file; }
teardown() {
	bg_stop_all
	kctl route per-request exact off >/dev/null 2>&1 || true
	while kctl route del exact 1 >/dev/null 2>&1; do :; done
	in_ns client nft delete table inet kn_mirror_loss 2>/dev/null || true
}

# share_count POD...: requests for /mirror-share in the pods' access logs.
share_count() {
	local pod
	for pod in "$@"; do cat "$(nginx_dir "$pod")/access.log"; done | grep -c '"GET /mirror-share HTTP/1.1"' || true
}
live_count() { share_count safe1 safe2; }
mirror_count() { share_count risky1; }

@test "mirror set, del and show: clear errors, the last good state kept" {
	run kctl mirror set nosuch shadow 10
	[[ $status -ne 0 && $output == *"no service named 'nosuch'"* ]] || { echo "$output"; false; }
	run kctl mirror set share nosuch 10
	[[ $status -ne 0 && $output == *"has no subset 'nosuch' (it has: live, shadow)"* ]] || { echo "$output"; false; }
	for bad in 0 100.5 101 -1 abc 1.23456 10%; do
		run kctl mirror set share shadow "$bad"
		[[ $status -ne 0 && $output == *"percentage"* ]] || { echo "PERCENT $bad: $output"; false; }
	done
	kctl mirror set share shadow 2.5
	run kctl mirror set share shadow 200
	[[ $status -ne 0 ]]
	expect_eq "$(mirror_stat share '.mirrors[0].percent')" 2.5 "the share after a bad set"
	expect_eq "$(kctl -j mirror show | jq -c '[.[] | .service]')" '["share"]' "services with a mirror"
	run kctl mirror del share live
	[[ $status -ne 0 && $output == *"does not mirror to subset live"* ]] || { echo "$output"; false; }
	kctl mirror del share
	expect_eq "$(kctl -j mirror show share | jq -c .mirrors)" '[]' "mirrors after del"
	run kctl mirror show
	[[ $output == *SERVICE* && $output != *share* ]] || { echo "$output"; false; }
}

@test "a 10 % mirror copies 10 % +- 1.5 % of 10,000 requests, keep-alive and new connections" {
	local before live mirrored j
	kctl mirror set share shadow 10
	before=$(mirror_count)
	for _ in $(seq 20); do
		j=$(wrk_run "$SHARE_URL" 2 8 keepalive) && wrk_expect_clean "$j" >/dev/null || { echo "$j"; return 1; }
		j=$(wrk_run "$SHARE_URL" 2 8 close) && wrk_expect_clean "$j" >/dev/null || { echo "$j"; return 1; }
		(($(live_count) >= 10000)) && break
	done
	relay_settled share risky1
	kctl -j mirror show share
	live=$(live_count)
	mirrored=$(($(mirror_count) - before))
	expect_between "$live" 10000 1e9 "live requests"
	expect_between "$(pct "$mirrored" "$live")" 8.5 11.5 "% of live requests the mirror got ($mirrored of $live)"
	expect_eq "$(mirror_stat share '.copy.requests')" "$mirrored" "requests the datapath copied"
	expect_eq "$(mirror_stat share '.mirrors[0].sent')" "$mirrored" "requests the relay sent"
	expect_eq "$(mirror_stat share '.mirrors[0].responses["2xx"]')" "$mirrored" "2xx answers the relay read"
	expect_eq "$(mirror_stat share '[.mirrors[0].dropped[]] | add')" 0 "requests dropped"
	expect_eq "$(mirror_stat share '.mirrors[0].errors')" 0 "mirror errors"
	# Kept alive: one connection to the mirror pod serves many requests.
	expect_between "$(mirror_stat share '.mirrors[0].connects')" 1 $((mirrored / 10)) \
		"connections the relay opened for $mirrored requests"
}

# exact_traffic DIR PREFIX: GETs and POSTs (bodies of 0 B to 1 MiB) to
# exact, each path (under /PREFIX) once: curl on new connections, then
# keep-alive connections.
exact_traffic() {
	local dir=$1 p=$2 i size steps
	for i in $(seq 0 39); do
		if ((i % 2)); then
			in_ns client curl -sf -o /dev/null --max-time 10 "http://$EXACT_VIP/$p/get/$i" || return 1
		else
			size=$(( (i * 7919 * 131) % 400000 ))
			((i == 0)) && size=1048576
			head -c "$size" /dev/urandom >"$dir/body$i"
			in_ns client curl -sf -o /dev/null --max-time 10 -H 'Expect:' \
				--data-binary "@$dir/body$i" "http://$EXACT_VIP/$p/post/$i" || return 1
		fi
	done
	for k in 0 1 2 3; do
		steps=$(for i in $(seq $((100 + k * 20)) $((119 + k * 20))); do
			if ((i % 3)); then
				printf '{"method":"GET","path":"/%s/ka/%d"}\n' "$p" "$i"
			else
				head -c $((i * 997)) /dev/urandom >"$dir/body$i"
				printf '{"method":"POST","path":"/%s/ka/%d","body_file":"%s"}\n' "$p" "$i" "$dir/body$i"
			fi
		done | jq -sc .)
		in_ns client "$MIRROR_PYTHON" "$KN_LIB_DIR/keepalive_client.py" steps "$EXACT_VIP" "$KN_VIP_PORT" - \
			<<<"$steps" >"$dir/ka$k.json" || { cat "$dir/ka$k.json"; return 1; }
	done
}

# expect_mirror_got_all PREFIX [N]: the N (120: exact_traffic's) requests under
# /PREFIX reached the mirror (risky1:8081) each once, as the live pod (safe1:8080) got them.
expect_mirror_got_all() {
	local live mirror n=${2:-120}
	live=$(recorded safe1 8080 "select(.path | startswith(\"/$1/\")) | [.method, .path, .len, .sha256]" | sort)
	mirror=$(recorded risky1 8081 "select(.path | startswith(\"/$1/\")) | [.method, .path, .len, .sha256]" | sort)
	# grep -c counts lines with text: wc -l would count an empty answer as one.
	expect_eq "$(grep -c . <<<"$live")" "$n" "requests the live pod got"
	expect_eq "$(grep -c . <<<"$mirror")" "$n" "requests the mirror got"
	[[ $live == "$mirror" ]] || { diff <(echo "$live") <(echo "$mirror") | head; return 1; }
	echo "ok: the mirror's requests are the live ones"
}

@test "at 100 %, every request arrives at the mirror once and byte for byte, Host aside" {
	local dir=$KN_TMP/exact hosts
	mkdir -p "$dir"
	kctl mirror set exact shadow 100
	exact_traffic "$dir" exact
	relay_settled exact risky1 8081
	kctl -j mirror show exact
	expect_mirror_got_all exact
	hosts=$(recorded risky1 8081 '.host' | sort -u | tr '\n' ' ')
	expect_eq "$hosts" "\"$EXACT_VIP-shadow\" " "the Host the mirror saw"
	hosts=$(recorded safe1 8080 '.host' | sort -u | tr '\n' ' ')
	expect_eq "$hosts" "\"$EXACT_VIP\" " "the Host the live pod saw"
}

@test "per-request routing (the rule path): every request at the mirror once and byte for byte" {
	local dir=$KN_TMP/perreq
	mkdir -p "$dir"
	kctl mirror set exact shadow 100
	kctl route per-request exact on
	exact_traffic "$dir" perreq
	kctl route per-request exact off
	relay_settled exact risky1 8081
	kctl -j mirror show exact
	expect_between "$(kctl -j stats exact | jq '[.[0].subsets[].routed_requests] | add')" 120 1e9 \
		"requests the rule path routed one by one"
	expect_mirror_got_all perreq
}

# dark_mix PREFIX: 30 GETs under /PREFIX on one keep-alive connection, every
# third (10) with x-dark: on, which rule 1 routes; the paths the mirror got, sorted.
dark_mix() {
	local steps
	steps=$(for i in $(seq 0 29); do
		if ((i % 3 == 0)); then
			printf '{"path":"/%s/dark/%d","headers":{"x-dark":"on"}}\n' "$1" "$i"
		else
			printf '{"path":"/%s/plain/%d"}\n' "$1" "$i"
		fi
	done | jq -sc .)
	in_ns client "$MIRROR_PYTHON" "$KN_LIB_DIR/keepalive_client.py" steps "$EXACT_VIP" "$KN_VIP_PORT" - \
		<<<"$steps" >"$KN_TMP/$1.json" || { cat "$KN_TMP/$1.json" >&2; return 1; }
	relay_settled exact risky1 8081 || return 1
	recorded risky1 8081 "select(.path | startswith(\"/$1/\")) | .path" | tr -d '"' | sort
}

# Istio's semantics: a route's mirror copies only that route's requests.  The
# rule sends dark requests to the live pod as the split does: the route, not
# the pod, decides.
@test "a dark route and a split mirror: dark requests reach no mirror; a rule's mirror only them" {
	local got
	kctl route add exact header x-dark=on to live >/dev/null
	kctl mirror set exact shadow 100
	got=$(dark_mix dsplit)
	expect_eq "$(grep -c /dsplit/plain/ <<<"$got")" 20 "plain requests at the split's mirror"
	expect_eq "$(grep -c /dsplit/dark/ <<<"$got")" 0 "dark requests at the split's mirror"
	kctl mirror del exact shadow split
	kctl mirror set exact shadow 100 route 1
	got=$(dark_mix droute)
	expect_eq "$(grep -c /droute/dark/ <<<"$got")" 10 "dark requests at rule 1's mirror"
	expect_eq "$(grep -c /droute/plain/ <<<"$got")" 0 "plain requests at rule 1's mirror"
	kctl mirror del exact shadow route 1
}

@test "chunked request bodies: each at the mirror once, to its last chunk" {
	local dir=$KN_TMP/chunked i
	mkdir -p "$dir"
	kctl mirror set exact shadow 100
	for i in $(seq 0 9); do
		head -c $((i * 37171 % 300000)) /dev/urandom >"$dir/body$i"
		in_ns client curl -sf -o /dev/null --max-time 10 -H 'Expect:' -H 'Transfer-Encoding: chunked' \
			--data-binary "@$dir/body$i" "http://$EXACT_VIP/chunked/$i" || return 1
	done
	relay_settled exact risky1 8081
	kctl -j mirror show exact
	expect_mirror_got_all chunked 10
	expect_eq "$(mirror_stat exact '.mirrors[0].dropped.unframed')" 0 "requests dropped as unframed"
}

# client_retrans: segments the client's stack has sent again.
client_retrans() { in_ns client awk '$1 == "Tcp:" && n++ { print $13 }' /proc/net/snmp; }

@test "a chunked body resent mid-request (the pod's ACKs held back): at the mirror once" {
	local dir=$KN_TMP/chunked_rtx before unframed
	mkdir -p "$dir"
	kctl mirror set exact shadow 100
	head -c 200000 /dev/urandom >"$dir/body"
	unframed=$(mirror_stat exact '.mirrors[0].dropped.unframed')
	before=$(client_retrans)
	# Without the pod's ACKs the client, its first flight sent, can only
	# send it again: the hook copies those segments a second time while
	# the body is unfinished, and the relay gets bytes it already holds.
	in_ns client nft -f - <<EOF
table inet kn_mirror_loss {
	chain in { type filter hook input priority 0; ip saddr $EXACT_VIP tcp sport $KN_VIP_PORT tcp flags & syn == 0 drop; }
}
EOF
	bg in_ns client curl -sf -o /dev/null --max-time 20 -H 'Expect:' -H 'Transfer-Encoding: chunked' \
		--data-binary "@$dir/body" "http://$EXACT_VIP/chunked-rtx/0"
	for _ in $(seq 100); do
		(($(client_retrans) > before)) && break
		sleep 0.1
	done
	in_ns client nft delete table inet kn_mirror_loss
	expect_between "$(client_retrans)" $((before + 1)) 1e12 "segments the client sent again" || return 1
	wait "$BG_LAST" || { echo "curl failed"; return 1; }
	relay_settled exact risky1 8081
	kctl -j mirror show exact
	expect_mirror_got_all chunked-rtx 1
	expect_eq "$(mirror_stat exact '.mirrors[0].dropped.unframed')" "$unframed" "requests dropped as unframed"
}

@test "5 % loss both ways on the client's link: mirror requests exact or absent, never twice" {
	local dir=$KN_TMP/lossy live mirror dups missing
	mkdir -p "$dir"
	kctl mirror set exact shadow 100
	in_ns client nft -f - <<EOF
table inet kn_mirror_loss {
	chain in { type filter hook input priority 0; meta l4proto tcp numgen random mod 100 < 5 drop; }
	chain out { type filter hook output priority 0; meta l4proto tcp numgen random mod 100 < 5 drop; }
}
EOF
	exact_traffic "$dir" lossy
	in_ns client nft delete table inet kn_mirror_loss
	relay_settled exact risky1 8081
	kctl -j mirror show exact
	live=$(recorded safe1 8080 'select(.path | startswith("/lossy/")) | [.method, .path, .len, .sha256]' | sort)
	mirror=$(recorded risky1 8081 'select(.path | startswith("/lossy/")) | [.method, .path, .len, .sha256]' | sort)
	expect_eq "$(wc -l <<<"$live")" 120 "requests the live pod got"
	dups=$(uniq -d <<<"$mirror" | wc -l)
	expect_eq "$dups" 0 "requests the mirror got twice"
	missing=$(comm -13 <(echo "$live") <(echo "$mirror") | wc -l)
	expect_eq "$missing" 0 "mirror requests that are no live request (corrupted)"
	expect_between "$(wc -l <<<"$mirror")" 30 120 "requests the mirror got"
}

# clean_load: keep-alive and new-connection load on share, no client error.
clean_load() {
	local j
	j=$(wrk_run "$SHARE_URL" 2 8 keepalive) && wrk_expect_clean "$j" >/dev/null || { echo "$j"; return 1; }
	j=$(wrk_run "$SHARE_URL" 2 8 close) && wrk_expect_clean "$j" >/dev/null || { echo "$j"; return 1; }
	echo "ok: no client error"
}

@test "a mirror refusing, slow, or no relay at all changes nothing for the client" {
	local errors
	kctl mirror set share shadow 100
	# Refusing: nothing listens on the mirror's port.
	kctl backend del share shadow "$(pod_ip risky1):80" >/dev/null
	kctl backend add share shadow "$(pod_ip risky1):9" >/dev/null
	sleep 1.2	# the relay re-reads the mirrors each second
	errors=$(mirror_stat share '.mirrors[0].errors')
	clean_load
	relay_settled share
	expect_between "$(mirror_stat share '.mirrors[0].errors')" $((errors + 100)) 1e12 "mirror errors (refused)"
	# Slow: the mirror answers after 2 s.
	recorder_start risky1 8082 2
	kctl backend del share shadow "$(pod_ip risky1):9" >/dev/null
	kctl backend add share shadow "$(pod_ip risky1):8082" >/dev/null
	sleep 1.2
	clean_load
	# No relay: the copies wait in the ring, or are dropped when it is full.
	relay_stop
	clean_load
	relay_start
	kctl backend del share shadow "$(pod_ip risky1):8082" >/dev/null
	kctl backend add share shadow "$(pod_ip risky1):80" >/dev/null
}

@test "mirror del stops the copying" {
	local copied mirrored
	kctl mirror set share shadow 10
	clean_load
	kctl mirror del share shadow
	relay_settled share risky1
	copied=$(mirror_stat share '.copy.requests')
	mirrored=$(mirror_count)
	clean_load
	relay_settled share risky1
	expect_eq "$(mirror_stat share '.copy.requests')" "$copied" "requests copied after del"
	expect_eq "$(mirror_count)" "$mirrored" "requests the mirror got after del"
}
