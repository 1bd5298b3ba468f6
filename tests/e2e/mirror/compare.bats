#!/usr/bin/env bats
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# The mirrors' comparison with the live answers (issue 11) on real TCP
# stacks: the datapath's LIVE events, the relay's pairing (user/mirror/pair.c)
# and kanaryctl mirror show / --diff / stats.  Service "cmp" has a recording
# pod live (safe1:8080, always 200) and one as its mirror (risky1:8081) that
# answers 500 for /fail; what the mirror recorded is the reference.

source "$BATS_TEST_DIRNAME/../../lib/e2e.bash"
source "$KN_LIB_DIR/greeting.sh"
source "$KN_LIB_DIR/traffic.sh"
source "$KN_LIB_DIR/mirror.bash"

CMP_VIP=10.96.0.17
AGREE_VIP=10.96.0.18
SLOW_VIP=10.96.0.19

setup_file() {
	e2e_setup_file || return 1
	recorder_start safe1 8080 && recorder_start risky1 8081 0 /fail &&
		recorder_start risky1 8082 && recorder_start risky1 8083 0.25 || return 1
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
			kctl mirror set slow shadow 100
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
