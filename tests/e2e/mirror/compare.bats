#!/usr/bin/env bats
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# The mirrors' comparison with the live answers (issue 11) on real TCP
# stacks: the datapath's LIVE events, the relay's pairing (user/mirror/pair.c)
# and kanaryctl mirror show / --diff / stats.  Service "cmp" has a recording
# pod live (safe1:8080, always 200) and one as its mirror (risky1:8081) that
# answers 500 for /fail; what the mirror recorded is the reference.
# Service "restart" (live safe1:8080, mirror risky1:8084, which reads the
# bodies of /slow/ paths slowly) is where the relay is killed under load.

source "$BATS_TEST_DIRNAME/../../lib/e2e.bash"
source "$KN_LIB_DIR/greeting.sh"
source "$KN_LIB_DIR/traffic.sh"
source "$KN_LIB_DIR/mirror.bash"

CMP_VIP=10.96.0.17
AGREE_VIP=10.96.0.18
SLOW_VIP=10.96.0.19
RESTART_VIP=10.96.0.20

setup_file() {
	e2e_setup_file || return 1
	recorder_start safe1 8080 && recorder_start risky1 8081 0 /fail &&
		recorder_start risky1 8082 && recorder_start risky1 8083 0.25 && recorder_start risky1 8084 "" "" /slow/ || return 1
	{
		kctl service add cmp "$CMP_VIP:$KN_VIP_PORT" &&
			kctl backend add cmp live "$(pod_ip safe1):8080" &&
			kctl backend add cmp shadow "$(pod_ip risky1):8081" &&
			kctl weight set cmp live 100 shadow 0 &&
			kctl mirror set cmp shadow 100 &&
			kctl service add agree "$AGREE_VIP:$KN_VIP_PORT" &&
			kctl backend add agree live "$(pod_ip safe1):8080" &&
			kctl backend add agree shadow "$(pod_ip risky1):8082" &&
			kctl weight set agree live 100 shadow 0 &&
			kctl mirror set agree shadow 100 &&
			kctl service add slow "$SLOW_VIP:$KN_VIP_PORT" &&
			kctl backend add slow live "$(pod_ip safe1):8080" &&
			kctl backend add slow shadow "$(pod_ip risky1):8083" &&
			kctl weight set slow live 100 shadow 0 &&
			kctl mirror set slow shadow 100 &&
			kctl service add restart "$RESTART_VIP:$KN_VIP_PORT" &&
			kctl backend add restart live "$(pod_ip safe1):8080" &&
			kctl backend add restart shadow "$(pod_ip risky1):8084" &&
			kctl weight set restart live 100 shadow 0 &&
			kctl mirror set restart shadow 100
	} >/dev/null || { echo "setting up the services failed" >&2; return 1; }
	relay_start
}
teardown_file() { relay_stop; e2e_teardown_file; }
teardown() { bg_stop_all; }

# cmp_traffic: 100 GETs on new connections, every fifth for /fail (with a
# query), then 50 on one keep-alive connection, every fifth for /fail.
cmp_traffic() {
	local i steps
	for i in $(seq 0 99); do
		if ((i % 5 == 0)); then
			in_ns client curl -s -o /dev/null --max-time 10 "http://$CMP_VIP/fail?i=$i" || return 1
		else
			in_ns client curl -sf -o /dev/null --max-time 10 "http://$CMP_VIP/ok/$i" || return 1
		fi
	done
	steps=$(for i in $(seq 100 149); do
		if ((i % 5 == 0)); then
			printf '{"method":"GET","path":"/fail?i=%d"}\n' "$i"
		else
			printf '{"method":"GET","path":"/ok/%d"}\n' "$i"
		fi
	done | jq -sc .)
	in_ns client "$MIRROR_PYTHON" "$KN_LIB_DIR/keepalive_client.py" steps "$CMP_VIP" "$KN_VIP_PORT" - \
		<<<"$steps" >"$KN_TMP/cmp-ka.json" || { cat "$KN_TMP/cmp-ka.json"; return 1; }
}

@test "a mirror answering 500 for one path: the disagreement on that path, with its count" {
	local fails oks diff
	cmp_traffic
	relay_settled cmp risky1 8081
	kctl mirror show cmp
	kctl mirror show cmp --diff
	kctl -j mirror show cmp | jq -c ".mirrors[0].comparison"
	kctl stats cmp | grep "^mirror"
	fails=$(recorded risky1 8081 'select(.path | startswith("/fail"))' | wc -l)
	oks=$(recorded risky1 8081 'select(.path | startswith("/ok/"))' | wc -l)
	# Every request reaches the mirror on a clean link (a lost copy would be dropped, not wrong).
	expect_between "$fails" 27 30 "/fail requests the mirror got"
	expect_between "$oks" 108 120 "/ok requests the mirror got"
	diff=$(kctl -j mirror show cmp --diff)
	expect_eq "$(jq -c '.disagreements | map([.subset, .method, .path, .live_status, .mirror_status])' <<<"$diff")" \
		'[["shadow","GET","/fail",200,500]]' "the disagreements"
	expect_eq "$(jq '.disagreements[0].count' <<<"$diff")" "$fails" "count of the /fail disagreement"
	expect_eq "$(mirror_stat cmp '.mirrors[0].comparison.differ')" "$fails" "requests that differed"
	expect_eq "$(mirror_stat cmp '.mirrors[0].comparison.agree')" "$oks" "requests that agreed"
	expect_eq "$(mirror_stat cmp '.mirrors[0].comparison.unpaired')" 0 "requests unpaired"
	expect_eq "$(mirror_stat cmp '.mirrors[0].comparison.agree_percent * 100 | round')" \
		"$(((oks * 10000 + (oks + fails) / 2) / (oks + fails)))" "agreement, in hundredths of a %"
	# Both sides' latency, from the same requests: a local pod answers within a second.
	expect_between "$(mirror_stat cmp '.mirrors[0].comparison.live_latency_ms.p99')" 0.001 1000 "live p99 ms"
	expect_between "$(mirror_stat cmp '.mirrors[0].comparison.mirror_latency_ms.p99')" 0.001 1000 "mirror p99 ms"
	run kctl mirror show cmp --diff
	[[ ${lines[1]} =~ ^shadow\ +GET\ +/fail\ +200\ +500\ +$fails$ ]] || { echo "$output"; false; }
}

@test "a mirror that answers as the live pods do: agreement near 100 % under load, in stats too" {
	local j compared copied
	j=$(wrk_run "http://$AGREE_VIP:$KN_VIP_PORT/same" 3 4 keepalive) && wrk_expect_clean "$j" >/dev/null ||
		{ echo "$j"; return 1; }
	echo "$j"
	# (The recorder writes head and body apart, so keep-alive waits on delayed ACKs:
	# ~90 requests/s.)  New connections too; wrk's close mode counts the
	# recorder's closes as read errors.
	for _ in $(seq 50); do
		in_ns client curl -sf -o /dev/null --max-time 10 "http://$AGREE_VIP/same/new" || return 1
	done
	relay_settled agree risky1 8082
	kctl mirror show agree
	copied=$(mirror_stat agree '.copy.requests')
	compared=$(mirror_stat agree '.mirrors[0].comparison.compared')
	expect_between "$copied" 200 1e9 "requests copied"
	# Those the relay dropped under load were never sent; of the rest, every one is compared.
	expect_eq "$compared" "$(mirror_stat agree '.mirrors[0].sent')" "requests compared (= sent)"
	expect_between "$compared" "$((copied * 9 / 10))" "$copied" "requests compared of those copied"
	expect_between "$(mirror_stat agree '.mirrors[0].comparison.agree_percent')" 99 100 "agreement %"
	expect_eq "$(kctl -j mirror show agree --diff | jq '.disagreements | length')" 0 "kinds of disagreement"
	run kctl stats agree
	[[ $output == *"mirror agree/shadow (100%): $compared compared, agree "* ]] || { echo "$output"; false; }
}

@test "a mirror 250 ms slower than the live pod: both latencies as measured, and their ratio" {
	local t0 t1 client_ms
	t0=$(date +%s%N)
	for i in $(seq 20); do
		in_ns client curl -sf -o /dev/null --max-time 10 "http://$SLOW_VIP/slow/$i" || return 1
	done
	t1=$(date +%s%N)
	client_ms=$(((t1 - t0) / 1000000 / 20))
	relay_settled slow risky1 8083
	kctl mirror show slow
	expect_eq "$(mirror_stat slow '.mirrors[0].comparison.agree')" 20 "requests that agreed"
	# The mirror's answers wait 250 ms: all 20 in the (200, 300] ms bucket, which puts
	# p50 at 250 and p99 at 299 (linear in the bucket, as histogram_quantile).
	expect_eq "$(mirror_stat slow '.mirrors[0].comparison.mirror_latency_ms.p50 | round')" 250 "mirror p50 ms"
	expect_eq "$(mirror_stat slow '.mirrors[0].comparison.mirror_latency_ms.p99 | round')" 299 "mirror p99 ms"
	# The live pod answers at once: under the client's own mean time per request.
	expect_between "$(mirror_stat slow '.mirrors[0].comparison.live_latency_ms.p99')" 0.001 "$client_ms" "live p99 ms"
	run kctl stats slow
	[[ $output =~ mirror\ slow/shadow\ \(100%\):\ 20\ compared,\ agree\ 100\.00%,\ p99\ 2[5-9][0-9]\ ms\ vs\ live\ [0-9.]+\ ms\ \(([0-9.]+)x\) ]] ||
		{ echo "$output"; false; }
	expect_between "${BASH_REMATCH[1]}" 10 1e9 "mirror p99 / live p99"
}

# The restart test's load on service restart, under /restart/PHASE/ (PHASE
# from $RS/phase: p1 until the relay is back, then p2), every path once,
# bodies from RS_SIZES (0: a GET).  A worker checks each answer (200, from
# safe1) and appends the record the live pod must write for each request
# ([method, path, len, sha256], as recorded prints it) to $RS/sent.NAME;
# anything else goes to $RS/errors and stops it.
RS_SIZES=(0 1000 17000 65537 200000 600000 1048576)

rs_fail() { echo "$*" >>"$RS/errors"; return 1; }
rs_rec() { printf '["%s","%s",%s,"%s"]\n' "$1" "$2" "${RS_LEN[$3]}" "${RS_SHA[$3]}"; }

# rs_keepalive W: keep-alive connections of 8 requests each, every size but the largest.
rs_keepalive() {
	local w=$1 n=0 i k p path steps recs out
	while [[ ! -e $RS/stop ]]; do
		n=$((n + 1)) steps=() recs=()
		p=$(<"$RS/phase")
		for i in $(seq 0 7); do
			k=$(((n + i + w) % 6)) path=/restart/$p/ka$w/$n/$i
			if ((k)); then
				steps+=("{\"method\":\"POST\",\"path\":\"$path\",\"body_file\":\"$RS/body$k\"}")
				recs+=("$(rs_rec POST "$path" "$k")")
			else
				steps+=("{\"path\":\"$path\"}")
				recs+=("$(rs_rec GET "$path" 0)")
			fi
		done
		out=$(printf '%s\n' "${steps[@]}" | jq -sc . | in_ns client "$MIRROR_PYTHON" \
			"$KN_LIB_DIR/keepalive_client.py" steps "$RESTART_VIP" "$KN_VIP_PORT" -) &&
			[[ $(jq -s 'length == 8 and all(.status == 200 and .pod == "safe1")' <<<"$out") == true ]] ||
			{ rs_fail "ka$w/$n: $out"; return 1; }
		printf '%s\n' "${recs[@]}" >>"$RS/sent.ka$w"
	done
}

# rs_new: one request per connection (curl), every size but the largest.
rs_new() {
	local n=0 k p path body
	while [[ ! -e $RS/stop ]]; do
		n=$((n + 1)) k=$((n % 6))
		p=$(<"$RS/phase")
		path=/restart/$p/new/$n
		if ((k)); then
			body=$(in_ns client curl -sf --max-time 10 -H 'Expect:' --data-binary "@$RS/body$k" \
				"http://$RESTART_VIP$path") && rs_rec POST "$path" "$k" >>"$RS/sent.new"
		else
			body=$(in_ns client curl -sf --max-time 10 "http://$RESTART_VIP$path") &&
				rs_rec GET "$path" 0 >>"$RS/sent.new"
		fi || { rs_fail "new $path: curl failed"; return 1; }
		[[ $body == safe1 ]] || { rs_fail "new $path: answered '$body'"; return 1; }
	done
}

# rs_slow: 1 MiB POSTs at 512 KiB/s, one after the other, so that one is
# being copied but between two; "PATH T0 T1" (ns) for each in $RS/slow, T0
# in $RS/slow.now while it goes.
rs_slow() {
	local n=0 p path t0 body
	while [[ ! -e $RS/stop ]]; do
		n=$((n + 1))
		p=$(<"$RS/phase")
		path=/restart/$p/slow/$n
		t0=$(date +%s%N)
		echo "$t0" >"$RS/slow.now"
		body=$(in_ns client curl -sf --max-time 10 --limit-rate 512K -H 'Expect:' \
			--data-binary "@$RS/body6" "http://$RESTART_VIP$path") ||
			{ rs_fail "slow $path: curl failed"; return 1; }
		[[ $body == safe1 ]] || { rs_fail "slow $path: answered '$body'"; return 1; }
		rm "$RS/slow.now"
		echo "$path $t0 $(date +%s%N)" >>"$RS/slow"
		rs_rec POST "$path" 6 >>"$RS/sent.slow"
	done
}

# rs_p2_in: the mirror has had every request sent after the restart (in $sent).
rs_p2_in() {
	[[ $(recorded risky1 8084 'select(.path | startswith("/restart/p2/")) | .path' | wc -l) -ge \
		$(grep -c '"/restart/p2/' <<<"$sent") ]]
}

# rs_counts: the relay's counts of restart's mirror, from its pinned maps.
rs_counts() {
	kctl -j mirror show restart | jq -c '.mirrors[0] | {sent, connects, responses, errors, dropped,
		comparison: (.comparison | {compared, agree, differ, unpaired})}'
}

# rs_went_back BEFORE AFTER: the counts (paths) of BEFORE that are smaller, or gone, in AFTER.
rs_went_back() {
	jq -nc --argjson a "$1" --argjson b "$2" \
		'[$a | paths(numbers)] | map(select(. as $p | ($b | getpath($p)) < ($a | getpath($p))))'
}

# "Whatever runs in userspace must survive a restart of itself with the live
# path untouched" (issue 11): docs/mirror.md, "Why a daemon of its own".
@test "the relay killed (SIGKILL) and restarted under load: the live path untouched, no mirror request partial or twice, counts go on" {
	RS=$KN_TMP/restart
	local i pid t0 kill_ns before mid after agree0 sent live transit cuts mirror p2_sent p2_mirror straddled w
	mkdir -p "$RS"
	RS_LEN=() RS_SHA=()
	for i in "${!RS_SIZES[@]}"; do
		head -c "${RS_SIZES[$i]}" /dev/urandom >"$RS/body$i"
		RS_LEN[i]=${RS_SIZES[$i]}
		RS_SHA[i]=$(sha256sum <"$RS/body$i" | cut -d' ' -f1)
	done
	echo p1 >"$RS/phase"
	# The relay this test kills is its own child.
	relay_stop
	relay_start
	for w in 1 2; do bg rs_keepalive "$w"; done
	bg rs_new
	bg rs_slow
	# Kill when the mirror has had some requests and a slow upload, not the
	# first, has been going for 0.5 to 1 s (the relay is rebuilding it, and
	# still writing the one before to the mirror).
	for _ in $(seq 200); do
		(($(recorded risky1 8084 | wc -l) >= 20)) && [[ -s $RS/slow ]] && t0=$(cat "$RS/slow.now" 2>/dev/null) &&
			(($(date +%s%N) - t0 > 500000000 && $(date +%s%N) - t0 < 1000000000)) && break
		sleep 0.05
	done
	[[ ! -e $RS/errors ]] || { cat "$RS/errors"; return 1; }
	before=$(rs_counts)
	pid=$(<"$KN_TMP/relay.pid")
	[[ $(readlink "/proc/$pid/exe") == "$(readlink -f "$KANARY_MIRROR")" ]] ||
		{ echo "pid $pid is not the relay: $(readlink "/proc/$pid/exe")"; return 1; }
	kill -KILL "$pid"
	kill_ns=$(date +%s%N)
	{ wait "$pid"; } 2>/dev/null || true	# gone; bash's "Killed" left unsaid
	sleep 0.3
	relay_start
	agree0=$(mirror_stat restart '.mirrors[0].comparison.agree')
	echo p2 >"$RS/phase"
	sleep 1
	mid=$(rs_counts)
	sleep 3
	touch "$RS/stop"
	for w in "${BG_PIDS[@]}"; do wait "$w" || true; done
	BG_PIDS=()
	# Requests held by the killed relay are never accounted for: the mirror
	# having every request of p2 is the sign that it is all in.
	sent=$(cat "$RS"/sent.* | sort)
	RELAY_SETTLED_IF=rs_p2_in relay_settled restart risky1 8084
	after=$(rs_counts)
	kctl mirror show restart
	echo "before the kill: $before"
	echo "1 s after the restart: $mid"
	echo "at the end: $after"

	# 1. The live path: every answer right (the workers checked each), and
	# the live pod got every request the client sent, once, byte for byte.
	[[ ! -e $RS/errors ]] || { cat "$RS/errors"; return 1; }
	live=$(recorded safe1 8080 'select(.path | startswith("/restart/")) | [.method, .path, .len, .sha256]' | sort)
	expect_between "$(grep -c . <<<"$sent")" 100 1e9 "requests the client sent and checked"
	[[ $live == "$sent" ]] || { echo "the live pod's requests are not the client's:"; diff <(echo "$sent") <(echo "$live") | head; return 1; }
	echo "ok: the live pod got the client's requests, each once"
	# The kill fell inside a slow upload, well clear of its ends.
	straddled=$(awk -v k="$kill_ns" '$2 + 3e8 <= k && k + 3e8 <= $3 { print $1 }' "$RS/slow")
	[[ -n $straddled ]] || { echo "no slow upload was under way at the kill ($kill_ns):"; cat "$RS/slow"; return 1; }
	echo "ok: the kill fell inside the upload of $straddled (at the mirror: $(recorded risky1 8084 "select(.path == \"$straddled\") | .len" | wc -l) times)"

	# 2. Every request at the mirror is one the client sent, and none came
	# twice.  The mirror reads the slow uploads' bodies slowly: the one
	# before the kill was still on its way to it then, from the dead relay.
	transit=$(awk -v k="$kill_ns" '$3 < k { p = $1 } END { print p }' "$RS/slow")
	expect_between "$(recorded risky1 8084 "select(.path == \"$transit\") | .t_ns" | tail -1)" "$kill_ns" 1e20 \
		"when the mirror had read $transit, sent before the kill (ns)"
	# A body cut short must end in a reset, never in a clean close that
	# makes the part look whole (a reset cut is no request: it is not answered).
	cuts=$(recorded risky1 8084 'select(.path | startswith("/restart/")) | select(.cut) | [.path, .cut, .len]')
	echo "bodies cut at the mirror: ${cuts:-none}"
	expect_eq "$(grep -c '"eof"' <<<"$cuts")" 0 "requests the mirror got cut short by a clean close"
	mirror=$(recorded risky1 8084 'select(.path | startswith("/restart/")) | select(.cut == null) | [.method, .path, .len, .sha256]' | sort)
	expect_eq "$(uniq -d <<<"$mirror" | grep -c .)" 0 "requests the mirror got twice"
	expect_eq "$(comm -13 <(echo "$sent") <(echo "$mirror") | grep -c .)" 0 "mirror requests that are no request the client sent (partial or corrupted)"
	echo "requests the mirror did not get: $(comm -23 <(echo "$sent") <(echo "$mirror") | grep -c .) of $(grep -c . <<<"$sent")"

	# 3. Mirroring and pairing resumed: every request sent after the restart
	# reached the mirror, and each was compared, in agreement.
	p2_sent=$(grep -c '"/restart/p2/' <<<"$sent")
	p2_mirror=$(grep -c '"/restart/p2/' <<<"$mirror")
	expect_between "$p2_sent" 20 1e9 "requests sent after the restart"
	expect_eq "$p2_mirror" "$p2_sent" "requests sent after the restart that reached the mirror"
	expect_between "$(($(jq .comparison.agree <<<"$after") - agree0))" "$p2_mirror" 1e9 "agreements counted after the restart"

	# 4. No count in the pinned maps went back.
	expect_eq "$(rs_went_back "$before" "$mid")" '[]' "counts lower 1 s after the restart than before the kill"
	expect_eq "$(rs_went_back "$before" "$after")" '[]' "counts lower at the end than before the kill"
	expect_between "$(jq .sent <<<"$mid")" "$(($(jq .sent <<<"$before") + 1))" 1e12 "sent, 1 s after the restart"
}

@test "kanary-mirror --max-pairs: a count from 1 to 16777216, else a clear error" {
	local bad
	for bad in 0 -1 abc 16777217 ''; do
		run "$KANARY_MIRROR" --max-pairs "$bad"
		[[ $status -eq 2 && $output == *"--max-pairs '$bad' is not a number from 1 to 16777216"* ]] ||
			{ echo "--max-pairs '$bad': $status $output"; false; }
	done
	run "$KANARY_MIRROR" --help
	[[ $status -eq 0 && $output == *"--max-pairs N"* ]] || { echo "$output"; false; }
}
