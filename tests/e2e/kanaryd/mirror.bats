#!/usr/bin/env bats
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# A VirtualService's mirror into kanary_mirror_v2, read back with
# `kanaryctl -j mirror show`: applied, changed (mirrors[]), removed, and
# kept as it was when the manifests go bad; /metrics' mirror families from
# the relay's counts.  One kanaryd on a private bpffs, no cluster: that
# copies reach the mirror pods is e2e-mirror's test.

: "${KANARYD:=$BATS_TEST_DIRNAME/../../../bin/kanaryd}"
: "${KANARYCTL:=$BATS_TEST_DIRNAME/../../../bin/kanaryctl}"
EXAMPLES="$BATS_TEST_DIRNAME/../../../examples"

setup_file() {
	[[ -x $KANARYD && -x $KANARYCTL ]] || { echo "kanaryd or kanaryctl not built (run make)" >&2; return 1; }
	export PIN="$BATS_FILE_TMPDIR/bpffs" MANIFESTS="$BATS_FILE_TMPDIR/m" LOG="$BATS_FILE_TMPDIR/kanaryd.log"
	export KANARY_RUN_DIR="$BATS_FILE_TMPDIR/run"
	mkdir -p "$PIN" "$MANIFESTS" "$KANARY_RUN_DIR" || return 1
	mount -t bpf bpf "$PIN" || { echo "cannot mount bpffs on $PIN (root needed)" >&2; return 1; }
	# The seed scenario without its VirtualService: each test writes its own.
	cp "$EXAMPLES"/{services,pods,destinationrule}.yaml "$MANIFESTS"/ || return 1
	write_mirror ''
	export MP=$((20000 + RANDOM % 20000))
	"$KANARYD" --manifests "$MANIFESTS" --pin-path "$PIN" --metrics-listen "127.0.0.1:$MP" \
		2>"$LOG" 3>&- &
	echo $! >"$BATS_FILE_TMPDIR/kanaryd.pid"
}

teardown_file() {
	local pid
	pid=$(cat "$BATS_FILE_TMPDIR/kanaryd.pid" 2>/dev/null) && kill "$pid" 2>/dev/null
	for _ in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	umount "$PIN" 2>/dev/null || true
}

# write_mirror MIRROR_YAML: the greeting VirtualService, 100 % safe, with these
# lines (at four spaces) after its route, written as an editor does.
write_mirror() {
	local f="$MANIFESTS/virtualservice.yaml"
	{
		printf 'apiVersion: networking.istio.io/v1\nkind: VirtualService\n'
		printf 'metadata:\n  name: greeting\n  namespace: default\nspec:\n  hosts:\n  - greeting\n'
		printf '  http:\n  - route:\n    - destination:\n        host: greeting\n        subset: safe\n'
		printf '%s' "$1"
	} >"$f.tmp" && mv "$f.tmp" "$f"
}

# mirrors: "risky=12.5/1 ..." (subset=percent/backends) as kanary_mirror_v2 holds greeting's mirrors.
mirrors() {
	"$KANARYCTL" --pin-path "$PIN" -j mirror show default/greeting |
		jq -er '[.mirrors[] | "\(.subset)=\(.percent)/\(.backends)"] | join(" ")'
}

# wait_mirrors WANT: polls (up to 10 s) until mirrors prints WANT.
wait_mirrors() {
	local got=""
	for _ in $(seq 100); do
		got=$(mirrors 2>/dev/null) && [[ $got == "$1" ]] && return 0
		sleep 0.1
	done
	echo "FAIL: mirrors are '$got', expected '$1'; kanaryd's log:" >&2
	tail -20 "$LOG" >&2
	return 1
}

# wait_log TEXT: polls (up to 10 s) until kanaryd's log has TEXT.
wait_log() {
	for _ in $(seq 100); do
		grep -qF -- "$1" "$LOG" && return 0
		sleep 0.1
	done
	echo "FAIL: kanaryd never logged: $1; its log:" >&2
	tail -20 "$LOG" >&2
	return 1
}

@test "a mirror is applied, changed to mirrors[], and removed with the VirtualService's" {
	write_mirror '    mirror:
      host: greeting
      subset: risky
    mirrorPercentage:
      value: 12.5
'
	# risky takes no live traffic, and still has its pod: the relay sends the copies there.
	wait_mirrors "risky=12.5/1"
	"$KANARYCTL" --pin-path "$PIN" -j weight show default/greeting |
		jq -e '.subsets | map("\(.name)=\(.weight)") == ["safe=100", "risky=0"]'

	write_mirror '    mirrors:
    - destination:
        host: greeting
        subset: risky
      percentage:
        value: 5
    - destination:
        host: greeting.default.svc.cluster.local
        subset: safe
'
	wait_mirrors "safe=100/2 risky=5/1"

	write_mirror ''
	wait_mirrors ""
	"$KANARYCTL" --pin-path "$PIN" -j mirror show default/greeting | jq -e '.mirrors == []'
}

@test "a mirror on a dark route is applied to its rule, beside the split's" {
	local f="$MANIFESTS/virtualservice.yaml" want
	cat >"$f.tmp" <<'YAML'
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: greeting, namespace: default}
spec:
  hosts: [greeting]
  http:
  - match: [{headers: {x-my-header: {exact: dark}}}]
    route: [{destination: {host: greeting, subset: risky}}]
    mirror: {host: greeting, subset: safe}
  - route: [{destination: {host: greeting, subset: safe}}]
    mirror: {host: greeting, subset: risky}
    mirrorPercentage: {value: 10}
YAML
	mv "$f.tmp" "$f"
	want='[{"subset":"safe","percent":0,"routes":[{"route":1,"percent":100}]},{"subset":"risky","percent":10,"routes":[]}]'
	for _ in $(seq 100); do
		got=$("$KANARYCTL" --pin-path "$PIN" -j mirror show default/greeting |
			jq -c '[.mirrors[] | {subset, percent, routes}]') && [[ $got == "$want" ]] && break
		sleep 0.1
	done
	[[ $got == "$want" ]] || { echo "mirrors: $got; kanaryd's log:"; tail -20 "$LOG"; return 1; }
	"$KANARYCTL" --pin-path "$PIN" -j route list default/greeting | jq -e '.rules | length == 1'
	! grep -F "mirror: not applied" "$LOG"
	write_mirror ''
	wait_mirrors ""
}

@test "a bad mirror is reported with its file and line, and the last good mirror stays" {
	write_mirror '    mirror: {host: greeting, subset: risky}
    mirrorPercent: 20
'
	wait_mirrors "risky=20/1"

	write_mirror '    mirror: {host: greeting, subset: risky}
    mirrorPercentage: {value: 150}
'
	wait_log "virtualservice.yaml:15: VirtualService default/greeting: spec.http[0].mirrorPercentage.value: expected a percentage from 0 to 100"
	[ "$(mirrors)" = "risky=20/1" ]

	write_mirror '    mirror: {host: greeting, subset: shadow}
'
	wait_log "default/greeting: left as it is in the maps: $MANIFESTS/virtualservice.yaml:14: VirtualService default/greeting: spec.http[0].mirror.subset: no DestinationRule for greeting.default.svc.cluster.local defines subset 'shadow'"
	[ "$(mirrors)" = "risky=20/1" ]
}

# Little-endian hex bytes of the given integers, of struct format FMT (python's).
le_hex() {
	python3 -c 'import struct,sys; print(" ".join("%02x" % b for b in struct.pack(sys.argv[1], *map(int, sys.argv[2:]))))' "$@"
}

@test "/metrics: a mirror's sends, answers, drops, comparison and both latencies, mirror subsets only" {
	local id idx w=() b m=$BATS_TEST_TMPDIR/metrics l
	write_mirror '    mirror: {host: greeting, subset: risky}
    mirrorPercentage: {value: 50}
'
	wait_mirrors "risky=50/1"
	id=$("$KANARYCTL" --pin-path "$PIN" -j service show default/greeting | jq -er .id)
	idx=$("$KANARYCTL" --pin-path "$PIN" -j service show default/greeting |
		jq -er '.subsets | map(.name) | index("risky")')
	# The relay's counts as it writes them (struct kanary_mirror_relay_stats): 1004 sent
	# on 37 connections, 993 2xx and 7 5xx answers, 3 dropped busy; 993 agreed, 7 differed, 4 unpaired;
	# both sides' 1000 latencies in (7, 10] ms and (10, 15] ms, summing 8.5 s and 12.5 s.
	for b in $(seq 0 97); do w[b]=0; done
	w[0]=1004; w[2]=993; w[5]=7; w[11]=3; w[12]=993; w[13]=7; w[14]=4
	w[15]=8500000; w[16]=12500000; w[17+14]=1000; w[57+15]=1000; w[97]=37
	# shellcheck disable=SC2046
	bpftool map update pinned "$PIN/kanary_mirrelay_v3" key hex $(le_hex '<I' $((id * 8 + idx))) \
		value hex $(le_hex "<98Q" "${w[@]}")
	curl -sf --max-time 5 -o "$m" "http://127.0.0.1:$MP/metrics"
	l='namespace="default",service="greeting",subset="risky"'
	grep -qx "kanary_mirror_sent_requests_total{$l} 1004" "$m"
	grep -qx "kanary_mirror_connections_total{$l} 37" "$m"
	grep -qx "kanary_mirror_responses_total{$l,class=\"2xx\"} 993" "$m"
	grep -qx "kanary_mirror_responses_total{$l,class=\"5xx\"} 7" "$m"
	grep -qx "kanary_mirror_dropped_requests_total{$l,reason=\"busy\"} 3" "$m"
	grep -qx "kanary_mirror_compared_requests_total{$l,result=\"agree\"} 993" "$m"
	grep -qx "kanary_mirror_compared_requests_total{$l,result=\"differ\"} 7" "$m"
	grep -qx "kanary_mirror_unpaired_requests_total{$l} 4" "$m"
	grep -qx "kanary_mirror_latency_seconds_bucket{$l,side=\"live\",le=\"0.007\"} 0" "$m"
	grep -qx "kanary_mirror_latency_seconds_bucket{$l,side=\"live\",le=\"0.01\"} 1000" "$m"
	grep -qx "kanary_mirror_latency_seconds_bucket{$l,side=\"mirror\",le=\"0.01\"} 0" "$m"
	grep -qx "kanary_mirror_latency_seconds_bucket{$l,side=\"mirror\",le=\"0.015\"} 1000" "$m"
	grep -qx "kanary_mirror_latency_seconds_sum{$l,side=\"live\"} 8.500000" "$m"
	grep -qx "kanary_mirror_latency_seconds_count{$l,side=\"mirror\"} 1000" "$m"
	grep -qx '# TYPE kanary_mirror_latency_seconds histogram' "$m"
	grep -qx 'kanary_mirror_copied_requests_total{namespace="default",service="greeting"} 0' "$m"
	# The subset that is no mirror has no series (a count: '! grep' mid-test cannot fail it).
	[ "$(grep -c '^kanary_mirror_[a-z_]*{[^}]*subset="safe"' "$m")" -eq 0 ]
	# A service without a mirror, none at all.
	write_mirror ''
	wait_mirrors ""
	curl -sf --max-time 5 -o "$m" "http://127.0.0.1:$MP/metrics"
	[ "$(grep -c '^kanary_mirror_' "$m")" -eq 0 ]
	[ "$(grep -c '^# TYPE kanary_mirror_' "$m")" -eq 9 ]
}
