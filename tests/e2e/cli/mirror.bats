#!/usr/bin/env bats
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# kanaryctl's view of the mirrors' comparison (issue 11) on a private bpffs:
# the relay's counts written into its pinned maps with bpftool, as the
# relay writes them, then read back by mirror show (AGREE%, both p99s, -j),
# mirror show --diff (the 20 most frequent, this service's only) and stats.

load helpers

setup() {
	setup_env
	run --separate-stderr k load ct-size 1024 max-services 16 max-backends 512
	[ "$status" -eq 0 ] || { echo "load failed: $stderr"; return 1; }
	k service add greeting 10.96.0.10:80 tcp >/dev/null &&
		k backend add greeting safe 10.0.0.1:8080 >/dev/null &&
		k backend add greeting shadow 10.0.0.3:8080 >/dev/null &&
		k weight set greeting safe 100 shadow 0 >/dev/null &&
		k mirror set greeting shadow 10 >/dev/null || return 1
	SVC_ID=$(k -j service show greeting | jq -r .id)
}

teardown() {
	teardown_env
}

# Little-endian hex bytes of the u64 words given, for bpftool.
words_hex() {
	python3 -c 'import struct,sys; print(" ".join("%02x" % b for b in struct.pack("<%dQ" % (len(sys.argv) - 1), *map(int, sys.argv[1:]))))' "$@"
}

# The relay's counts of (service, subset 1): 1004 sent on 37 connections, 993 agreed,
# 7 differed, 4 unpaired; the live side all in the bucket (7, 10] ms, the mirror's all in (10, 15] ms.
write_relay_counts() {
	local w=() b
	for b in $(seq 0 97); do w[b]=0; done
	w[0]=1004; w[2]=993; w[5]=7; w[12]=993; w[13]=7; w[14]=4
	w[97]=37	# connections opened
	w[15]=8500000; w[16]=12500000	# the latency sums (µs), for /metrics
	w[17+14]=1000; w[57+15]=1000
	# shellcheck disable=SC2046
	bpftool map update pinned "$PIN/kanary_mirrelay_v3" \
		key hex $(python3 -c 'import struct,sys; print(" ".join("%02x" % b for b in struct.pack("<I", int(sys.argv[1]))))' $((SVC_ID * 8 + 1))) \
		value hex $(words_hex "${w[@]}")
}

# One disagreement: service id, method, path, live status, mirror status, count.
write_diff() {
	local key
	key=$(python3 -c '
import struct, sys
svc, method, path, live, mirror = sys.argv[1:6]
k = struct.pack("<IBBHHH", int(svc), 1, 0, int(live), int(mirror), 0)
k += method.encode().ljust(12, b"\0") + path.encode().ljust(100, b"\0")
print(" ".join("%02x" % b for b in k))' "$@")
	# shellcheck disable=SC2086
	bpftool map update pinned "$PIN/kanary_mirdiff_v1" key hex $key value hex $(words_hex "$6")
}

@test "mirror show: agreement and both p99s from the relay's counts, plain and -j" {
	run --separate-stderr k mirror show
	[ "$status" -eq 0 ] || { echo "$stderr"; return 1; }
	[[ "${lines[0]}" == *"AGREE%"*"P99MS_MIRROR"*"P99MS_LIVE"* ]] || { echo "$output"; return 1; }
	# Nothing compared yet: dashes, not zeros.
	[[ "${lines[1]}" =~ greeting\ +shadow.*-\ +-\ +-$ ]] || { echo "$output"; return 1; }
	write_relay_counts
	run --separate-stderr k mirror show greeting
	[ "$status" -eq 0 ] || { echo "$stderr"; return 1; }
	# 993 of 1000: 99.30; p99 of (7, 10] ms is 9.97, of (10, 15] ms 14.95 shown as 15.
	[[ "${lines[1]}" =~ 99\.30\ +15\ +9\.97$ ]] || { echo "$output"; return 1; }
	run --separate-stderr k -j mirror show greeting
	[ "$status" -eq 0 ]
	jq -e '.mirrors[0].sent == 1004 and .mirrors[0].connects == 37' <<<"$output" >/dev/null ||
		{ echo "$output"; return 1; }
	jq -e '.mirrors[0].comparison | .compared == 1000 and .agree == 993 and .differ == 7
		and .unpaired == 4 and (.agree_percent * 100 | round) == 9930
		and (.live_latency_ms.p99 * 100 | round) == 997
		and (.mirror_latency_ms.p99 * 100 | round) == 1495
		and (.live_latency_ms.p50 * 100 | round) == 850' <<<"$output" >/dev/null ||
		{ echo "$output"; return 1; }
}

@test "mirror show --diff: this service's 20 most frequent disagreements, plain and -j" {
	local n
	run --separate-stderr k mirror show greeting --diff
	[ "$status" -eq 0 ]
	[[ "$output" == *"no disagreement"* ]] || { echo "$output"; return 1; }
	for n in $(seq 1 25); do
		write_diff "$SVC_ID" GET "/p$n" 200 500 $((n * 10))
	done
	write_diff $((SVC_ID + 1)) GET /other 200 0 100000	# another service's
	run --separate-stderr k -j mirror show greeting --diff
	[ "$status" -eq 0 ] || { echo "$stderr"; return 1; }
	jq -e '.service == "greeting" and (.disagreements | length) == 20
		and .disagreements[0] == {"subset": "shadow", "method": "GET", "path": "/p25",
					  "live_status": 200, "mirror_status": 500, "count": 250}
		and .disagreements[19].count == 60
		and ([.disagreements[].count] | . == (sort | reverse))' <<<"$output" >/dev/null ||
		{ echo "$output"; return 1; }
	run --separate-stderr k mirror show greeting --diff
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 21 ] || { echo "$output"; return 1; }
	[[ "${lines[1]}" =~ ^shadow\ +GET\ +/p25\ +200\ +500\ +250$ ]] || { echo "$output"; return 1; }
	# Removing the service's mirrors and the service forgets them with its id.
	k service del greeting
	run bpftool -j map dump pinned "$PIN/kanary_mirdiff_v1"
	[ "$(jq length <<<"$output")" -eq 1 ] || { echo "$output"; return 1; }
}

@test "mirror show --diff needs a service; bad arguments are errors" {
	run --separate-stderr k mirror show --diff
	[ "$status" -ne 0 ]
	[[ "$stderr" == *"--diff takes a SERVICE"* ]] || { echo "$stderr"; return 1; }
	run --separate-stderr k mirror show greeting --nope
	[ "$status" -ne 0 ]
	[[ "$stderr" == *"what is '--nope'"* ]] || { echo "$stderr"; return 1; }
	run --separate-stderr k mirror show nosuch --diff
	[ "$status" -ne 0 ]
}

@test "stats: a line per mirror beside the subsets, and its comparison in -j" {
	write_relay_counts
	run --separate-stderr k stats
	[ "$status" -eq 0 ] || { echo "$stderr"; return 1; }
	[[ "$output" == *"mirror greeting/shadow (10%): 1000 compared, agree 99.30%, p99 15 ms vs live 9.97 ms (1.50x), 4 unpaired"* ]] ||
		{ echo "$output"; return 1; }
	run --separate-stderr k -j stats
	[ "$status" -eq 0 ]
	jq -e '.[0].mirrors[0] | .subset == "shadow" and .percent == 10 and .sent == 1004
		and .comparison.agree == 993' <<<"$output" >/dev/null || { echo "$output"; return 1; }
}

@test "mirror set/del ROUTE: a share per rule beside the split's; route del moves them up" {
	k route add greeting header x-a=1 to safe >/dev/null &&
		k route add greeting header x-b=1 to safe >/dev/null || return 1
	k mirror set greeting shadow 100 route 2 && k mirror set greeting shadow 5 route 1 || return 1
	run --separate-stderr k mirror show greeting
	[ "$status" -eq 0 ] || { echo "$stderr"; return 1; }
	[[ "${lines[1]}" =~ greeting\ +shadow\ +10%,r1:5%,r2:100%\  ]] || { echo "$output"; return 1; }
	run --separate-stderr k -j mirror show greeting
	jq -e '.mirrors[0] | .percent == 10 and .routes == [{"route": 1, "percent": 5}, {"route": 2, "percent": 100}]' \
		<<<"$output" >/dev/null || { echo "$output"; return 1; }
	# The split's share alone goes; then rule 1 is deleted, and rule 2's share becomes rule 1's.
	k mirror del greeting shadow split && k route del greeting 1 >/dev/null || return 1
	run --separate-stderr k -j mirror show greeting
	jq -e '.mirrors[0] | .percent == 0 and .routes == [{"route": 1, "percent": 100}]' \
		<<<"$output" >/dev/null || { echo "$output"; return 1; }
	k mirror del greeting shadow route 1 || return 1
	run --separate-stderr k -j mirror show greeting
	jq -e '.mirrors == []' <<<"$output" >/dev/null || { echo "$output"; return 1; }
}

@test "mirror set/del ROUTE: a rule that does not exist and a bad ROUTE are errors, the state kept" {
	k route add greeting header x-a=1 to safe >/dev/null || return 1
	run --separate-stderr k mirror set greeting shadow 10 route 2
	[ "$status" -ne 0 ]
	[[ "$stderr" == *"service greeting has 1 rule: no rule 2"* ]] || { echo "$stderr"; return 1; }
	run --separate-stderr k mirror set greeting shadow 10 rule 1
	[ "$status" -ne 0 ]
	[[ "$stderr" == *"what is 'rule'? expected split or route INDEX after PERCENT"* ]] ||
		{ echo "$stderr"; return 1; }
	run --separate-stderr k mirror set greeting shadow 10 route
	[ "$status" -ne 0 ]
	run --separate-stderr k mirror set greeting shadow 10 route 1 x
	[ "$status" -ne 0 ]
	[[ "$stderr" == *"what is 'x'? expected nothing after ROUTE"* ]] || { echo "$stderr"; return 1; }
	run --separate-stderr k mirror del greeting shadow route 1
	[ "$status" -ne 0 ]
	[[ "$stderr" == *"does not mirror rule 1 to subset shadow"* ]] || { echo "$stderr"; return 1; }
	run --separate-stderr k -j mirror show greeting
	jq -e '.mirrors[0] | .percent == 10 and .routes == []' <<<"$output" >/dev/null ||
		{ echo "$output"; return 1; }
}
