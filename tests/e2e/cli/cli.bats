#!/usr/bin/env bats
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# kanaryctl end to end on a private bpffs and netns: every command, prefixes,
# help, JSON, bad input (which must change nothing), the atomic switch,
# weight normalisation, load/unload and tc attachments.

load helpers

setup() {
	setup_env
	run --separate-stderr k load ct-size 1024 max-services 16 max-backends 512
	[ "$status" -eq 0 ] || { echo "load failed: $stderr"; return 1; }
}

teardown() {
	teardown_env
}

# A service with safe (2 backends) and risky (1 backend), weights 80/20.
add_greeting() {
	k service add greeting 10.96.0.10:80 tcp >/dev/null 2>&1 &&
		k backend add greeting safe 10.0.0.1:8080 >/dev/null 2>&1 &&
		k backend add greeting safe 10.0.0.2:8080 >/dev/null 2>&1 &&
		k backend add greeting risky 10.0.0.3:8080 >/dev/null 2>&1 &&
		k weight set greeting safe 80 risky 20 >/dev/null 2>&1
}

@test "help at every level, plain and JSON" {
	local lvl
	for lvl in "help" "service help" "backend help" "weight help" "iface help" \
		   "load help" "stats help"; do
		# shellcheck disable=SC2086
		run --separate-stderr k $lvl
		[ "$status" -eq 0 ] || { echo "'$lvl' exited $status: $stderr"; return 1; }
		[[ "$output" == *"Usage: kanaryctl"* ]] || { echo "'$lvl' shows no usage: $output"; return 1; }
		# shellcheck disable=SC2086
		run --separate-stderr k -j $lvl
		[ "$status" -eq 0 ]
		jq -e '.help | contains("Usage: kanaryctl")' <<<"$output" >/dev/null ||
			{ echo "'-j $lvl' is not {\"help\": ...}: $output"; return 1; }
	done
	# Shared grammar fragments mean the same everywhere.
	run k service help
	[[ "$output" == *"SERVICE := NAME"* && "$output" == *"ADDR    := A.B.C.D:PORT"* ]]
	run k backend help
	[[ "$output" == *"SERVICE := NAME"* && "$output" == *"SUBSET  := NAME"* ]]
	run k weight help
	[[ "$output" == *"WEIGHT  := 0 to 1000000"* ]]
	run --separate-stderr "$KCTL" -h
	[ "$status" -eq 0 ]
	[[ "$output" == *"OPTIONS := "* ]]
}

@test "version, -V and -j version" {
	run --separate-stderr "$KCTL" -V
	[ "$status" -eq 0 ]
	[[ "$output" == "kanaryctl v"* ]]
	run --separate-stderr "$KCTL" version
	[ "$status" -eq 0 ]
	[[ "$output" == *"libbpf"* ]]
	run --separate-stderr "$KCTL" -j version
	[ "$status" -eq 0 ]
	jq -e '(.version | test("^[0-9]+\\.[0-9]+\\.[0-9]+$")) and (.libbpf | length > 0)' <<<"$output"
}

@test "unique prefixes run the command; ambiguous and unknown ones are errors" {
	run --separate-stderr k serv ad greeting 10.96.0.10:80
	[ "$status" -eq 0 ] || { echo "$stderr"; return 1; }
	run --separate-stderr k -j se sh greeting
	[ "$status" -eq 0 ]
	jq_is .service greeting
	run --separate-stderr k -j service
	[ "$status" -eq 0 ]
	jq_is '.[0].service' greeting	# no command: list
	expect_fail "'s' is ambiguous: it could be service, stats" s list
	expect_fail "'s' is ambiguous: it could be set, show" weight s greeting
	expect_fail "'ma' is ambiguous" load ma 5
	expect_fail "what is 'frob'? expected a command or object" frob
	expect_fail "what is 'frob'? expected a service command" service frob
	expect_fail "missing backend command: expected add, del, list or help" backend
}

@test "global option errors and a missing command" {
	run --separate-stderr "$KCTL" --bogus service list
	[ "$status" -ne 0 ]
	[[ "$stderr" == *"Error: unknown option '--bogus'"* ]]
	run --separate-stderr "$KCTL" -j --bogus service list
	[ "$status" -ne 0 ]
	jq -e '.error | contains("unknown option")' <<<"$output"
	run --separate-stderr "$KCTL" --pin-path
	[ "$status" -ne 0 ]
	[[ "$stderr" == *"--pin-path needs a directory"* ]]
	run --separate-stderr "$KCTL"
	[ "$status" -ne 0 ]
	[[ "$stderr" == *"Error: missing command"* ]]
}

# one_doc ARGS...: kanaryctl ARGS succeeds and prints exactly one JSON document, not null.
one_doc() {
	run --separate-stderr k "$@"
	[ "$status" -eq 0 ] || { echo "$* exited $status: $output $stderr"; return 1; }
	[ "$(jq -s 'length' <<<"$output")" = 1 ] || { echo "$*: not one JSON document: $output"; return 1; }
	jq -e '. != null' <<<"$output" >/dev/null || { echo "$* printed null"; return 1; }
}

@test "every command prints one valid JSON document with -j" {
	add_greeting
	make_veth
	local cmd
	for cmd in "service list" "service show greeting" "backend list greeting" \
		   "weight show greeting" "stats" "stats greeting" "counters" "iface list" \
		   "load" "version"; do
		# shellcheck disable=SC2086
		one_doc -j $cmd
		# shellcheck disable=SC2086
		one_doc -p $cmd
	done
	one_doc -j attach vh0
	one_doc -p detach vh0
	one_doc -j backend add greeting safe 10.0.0.9:8080
	one_doc -p backend del greeting safe 10.0.0.9:8080
	one_doc -j weight set greeting risky 25
	one_doc -j service add other 10.96.0.11:443
	one_doc -p service del other
	one_doc -j unload
	jq -e '.unloaded == true' <<<"$output"
}

@test "service add, list, show and del" {
	run --separate-stderr k service add default/greeting 10.96.0.10:80 tcp
	[ "$status" -eq 0 ]
	[[ "$output" == *"service default/greeting added: 10.96.0.10:80/tcp"* ]]
	run --separate-stderr k -j service show default/greeting
	jq_is .vip 10.96.0.10:80
	jq_is .protocol tcp
	jq_is .slot 0
	jq_is .generation 1
	jq_is '.subsets | length' 0
	run --separate-stderr k service add second 10.96.0.11:443
	run --separate-stderr k -j service list
	jq_is '[.[].service] | join(",")' default/greeting,second
	jq_is '[.[].id] | join(",")' 0,1
	run --separate-stderr k service list
	[[ "$output" == *"default/greeting"*"10.96.0.10:80"* ]]
	[[ "$output" == *"second"*"10.96.0.11:443"* ]]
	run --separate-stderr k -j service del default/greeting
	[ "$status" -eq 0 ]
	jq_is .deleted default/greeting
	run --separate-stderr k -j service list
	jq_is '[.[].service] | join(",")' second
	# The map entry is gone, so the datapath no longer sees the VIP.
	[ "$(bpftool -j map dump pinned "$PIN/kanary_svc_v1" | jq length)" = 1 ]
	# The freed id is reused.
	run --separate-stderr k -j service add third 10.96.0.12:80
	jq_is .id 0
}

@test "service del removes the backends and resets the stats" {
	add_greeting
	[ "$(bpftool -j map dump pinned "$PIN/kanary_be_v1" | jq length)" -gt 0 ]
	# Both subsets have their Maglev table in the live slot, and only there.
	slot=$(k -j service show greeting | jq .slot)
	jq_is '[.[] | "\(.formatted.key.slot)/\(.formatted.key.subset)"] | sort | join(",")' \
		"$slot/0,$slot/1" "$(bpftool -j map dump pinned "$PIN/kanary_mag_v1")"
	# Fake datapath counts on subset 0 of service id 0, on every CPU.
	bpftool map update pinned "$PIN/kanary_stat_v3" key 0 0 0 0 value $(u64s 1 0 2 3 4 5 6 7)
	run --separate-stderr k -j stats greeting
	jq_is '.[0].subsets[0].connections' "$(possible_cpus)"
	k service del greeting
	[ "$(bpftool -j map dump pinned "$PIN/kanary_be_v1" | jq length)" = 0 ]
	[ "$(bpftool -j map dump pinned "$PIN/kanary_mag_v1" | jq length)" = 0 ]
	[ "$(bpftool -j map dump pinned "$PIN/kanary_svc_v1" | jq length)" = 0 ]
	k service add greeting 10.96.0.10:80
	run --separate-stderr k -j stats greeting
	jq_is '.[0].subsets | length' 0
	[ "$(bpftool -j map lookup pinned "$PIN/kanary_stat_v3" key 0 0 0 0 |
		jq '[.formatted.values[].value[]] | add')" = 0 ]
}

@test "bad input fails, says what was expected, and changes nothing" {
	add_greeting
	expect_fail "not an IPv4 address" service add x 10.0.0.300:80
	expect_fail "expected 1-65535" service add x 10.0.0.1:0
	expect_fail "expected 1-65535" service add x 10.0.0.1:65536
	expect_fail "has no port" service add x 10.0.0.1
	expect_fail "IPv6 is not supported yet" service add x "[::1]:80"
	expect_fail "only tcp is supported" service add x 10.0.0.1:80 udp
	expect_fail "service 'greeting' already exists" service add greeting 10.0.0.1:80
	expect_fail "10.96.0.10:80/tcp is already service 'greeting'" service add other 10.96.0.10:80
	expect_fail "is not a valid service name" service add "bad name" 10.0.0.1:80
	expect_fail "missing argument: expected SERVICE ADDR" service add x
	expect_fail "not a weight: expected a number from 0 to 1000000" weight set greeting safe -1
	expect_fail "not a weight: expected a number" weight set greeting safe abc
	expect_fail "not a weight" weight set greeting safe nan
	expect_fail "too large: expected 0 to 1000000" weight set greeting safe 1000001
	expect_fail "more than 3 decimals" weight set greeting safe 0.0001
	expect_fail "subset 'risky' has no weight" weight set greeting safe 80 risky
	expect_fail "named twice" weight set greeting safe 80 safe 20
	# A bad pair later on the line stops the good ones before it.
	expect_fail "not a weight" weight set greeting safe 50 risky x
	expect_fail "no subset 'nosuch' (it has: safe, risky)" backend del greeting nosuch 10.0.0.1:8080
	expect_fail "no service named 'nosuch'" backend add nosuch safe 10.0.0.1:8080
	expect_fail "no service named 'nosuch'" weight show nosuch
	expect_fail "no service named 'nosuch'" weight set nosuch safe 1
	expect_fail "no service named 'nosuch'" service show nosuch
	expect_fail "no service named 'nosuch'" service del nosuch
	expect_fail "no service named 'nosuch'" stats nosuch
	expect_fail "backend 10.0.0.1:8080 is already in subset safe" backend add greeting safe 10.0.0.1:8080
	expect_fail "backend 10.0.0.7:8080 is not in subset safe" backend del greeting safe 10.0.0.7:8080
	expect_fail "not an IPv4 address" backend add greeting safe 10.0.0:8080
	expect_fail "not a valid subset name" backend add greeting "a b" 10.0.0.5:8080
	expect_fail "what is 'extra'?" service show greeting extra
	expect_fail "not a valid ct-size: expected a whole number" load ct-size abc
	expect_fail "ct-size 0 is out of range" load ct-size 0
	expect_fail "ct-size needs a number" load ct-size
	expect_fail "ct-linger 0 is out of range: expected 1 to 3600000" load ct-linger 0
	expect_fail "ct-syn-timeout 3600001 is out of range: expected 1 to 3600000" load ct-syn-timeout 3600001
	expect_fail "ct-linger needs a number: expected ct-linger MS" load ct-linger
	expect_fail "'ct' is ambiguous" load ct 5
	expect_fail "ho-per-source 0 is out of range: expected 1 to 4294967294" load ho-per-source 0
	expect_fail "ho-per-source needs a number: expected ho-per-source N or ho-per-source off" load ho-per-source
	expect_fail "not a valid ho-per-source" load ho-per-source many
	expect_fail "is not a valid --watch interval" stats --watch 1x
	expect_fail "--watch interval 0 is out of range" stats --watch 0
	expect_fail "no interface 'nosuch0'" attach nosuch0
}

@test "each commit fills the other slot, then switches: slot flips, generation bumps" {
	k service add greeting 10.96.0.10:80
	local n slot gen prev_slot=0 prev_gen=1 cfg
	for n in 1 2 3 4; do
		k backend add greeting safe "10.0.0.$n:8080" >/dev/null
		run --separate-stderr k -j service show greeting
		slot=$(jq -r .slot <<<"$output")
		gen=$(jq -r .generation <<<"$output")
		[ "$slot" -eq $((1 - prev_slot)) ] || { echo "commit $n: slot $slot after $prev_slot"; return 1; }
		[ "$gen" -eq $((prev_gen + 1)) ] || { echo "commit $n: generation $gen after $prev_gen"; return 1; }
		# What the datapath reads agrees: the service map points at that slot and config.
		cfg=$(map_cfg 0)
		jq_is .slot "$slot" "$cfg"
		jq_is .generation "$gen" "$cfg"
		jq_is '.subsets[0].n_backends' "$n" "$cfg"
		prev_slot=$slot
		prev_gen=$gen
	done
	# The backends of the live slot are in the backend map, in order.
	run --separate-stderr k -j backend list greeting
	jq_is '[.backends[].address] | join(" ")' "10.0.0.1:8080 10.0.0.2:8080 10.0.0.3:8080 10.0.0.4:8080"
	# Removing compacts the list, order kept.  The second removal lands in the
	# slot that held 4 backends: its 2 stale keys must be gone.
	k backend del greeting safe 10.0.0.2:8080 >/dev/null
	run --separate-stderr k -j backend list greeting
	jq_is '[.backends[].address] | join(" ")' "10.0.0.1:8080 10.0.0.3:8080 10.0.0.4:8080"
	k backend del greeting safe 10.0.0.1:8080 >/dev/null
	run --separate-stderr k -j backend list greeting
	jq_is '[.backends[].address] | join(" ")' "10.0.0.3:8080 10.0.0.4:8080"
	slot=$(k -j service show greeting | jq .slot)
	jq_is "[.[] | select(.formatted.key.slot == $slot) | .formatted.key.index] | sort | join(\",\")" \
		0,1 "$(bpftool -j map dump pinned "$PIN/kanary_be_v1")"
}

@test "weights normalise to parts per 10,000" {
	add_greeting
	local w
	for w in "80 20" "4 1" "0.8 0.2" "800000 200000"; do
		set -- $w
		k weight set greeting safe "$1" risky "$2" >/dev/null
		run --separate-stderr k -j weight show greeting
		jq_is '[.subsets[].parts] | join(",")' 8000,2000
		jq_is '[.subsets[].effective_percent] | join(",")' 80,20
		jq_is '.cum_weight[0:2] | join(",")' 8000,10000 "$(map_cfg 0)"
	done
	# 1/1/1 over three subsets: the leftover part goes to the first.
	k backend add greeting third 10.0.0.4:8080 2>/dev/null >/dev/null
	k weight set greeting safe 1 risky 1 third 1 >/dev/null
	jq_is '.cum_weight[0:3] | join(",")' 3334,6667,10000 "$(map_cfg 0)"
}

@test "a subset without backends gets 0 and its share goes to the others" {
	add_greeting
	run --separate-stderr k weight set greeting safe 70 risky 10 canary 20
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"subset canary is new and has no backends"* ]]
	run --separate-stderr k -j weight show greeting
	jq_is '[.subsets[] | "\(.name)=\(.parts)"] | join(",")' safe=8750,risky=1250,canary=0
	jq_is '.subsets[2].note' "no backends: its share goes to the other subsets"
	run --separate-stderr k weight show greeting
	[[ "$output" == *"canary"*"0.00%"*"no backends"* ]]
	k backend add greeting canary 10.0.0.9:8080 >/dev/null
	run --separate-stderr k -j weight show greeting
	jq_is '[.subsets[].parts] | join(",")' 7000,1000,2000
	# Emptying a subset hands its share back.
	k backend del greeting risky 10.0.0.3:8080 2>/dev/null >/dev/null
	run --separate-stderr k -j weight show greeting
	jq_is '[.subsets[].parts] | join(",")' 7778,0,2222
}

@test "a new canary subset starts at weight 0; all-zero weights warn about pass-through" {
	k service add greeting 10.96.0.10:80
	run --separate-stderr k backend add greeting safe 10.0.0.1:8080
	[ "$status" -eq 0 ]
	run --separate-stderr k -j weight show greeting
	jq_is '.subsets[0].weight' 100
	jq_is '.subsets[0].parts' 10000
	run --separate-stderr k backend add greeting risky 10.0.0.2:8080
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"Warning: new subset risky of service greeting has weight 0"* ]]
	run --separate-stderr k -j weight show greeting
	jq_is '[.subsets[].parts] | join(",")' 10000,0
	run --separate-stderr k weight set greeting safe 0
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"Warning: every subset of greeting with backends now has weight 0"*"pass through"* ]]
	jq_is '.cum_weight | add' 0 "$(map_cfg 0)"
	run --separate-stderr k -j weight set greeting safe 0
	jq -e '.warnings[0] | contains("pass through")' <<<"$output"
}

@test "conntrack timeouts: set by load, kept by a reload that names none, shown" {
	run --separate-stderr k -j load
	[ "$status" -eq 0 ]
	jq_is .ct_linger_ms 10000
	jq_is .ct_syn_timeout_ms 60000
	k load ct-linger 2500 ct-syn-t 7000 >/dev/null
	run --separate-stderr k load
	[ "$status" -eq 0 ]
	[[ "$output" == *"closed connections tracked for 2500 ms, unanswered SYNs for 7000 ms"* ]] ||
		{ echo "a reload lost the timeouts: $output"; return 1; }
	# The datapath reads them from this map, not from load-time constants.
	jq_is '.[0].formatted.value | "\(.linger_ms),\(.syn_timeout_ms)"' 2500,7000 \
		"$(bpftool -j map dump pinned "$PIN/kanary_ctcfg_v1")"
	k load ct-linger 900 >/dev/null
	run --separate-stderr k -j load
	jq_is .ct_linger_ms 900
	jq_is .ct_syn_timeout_ms 7000
	run --separate-stderr k -j counters
	[ "$status" -eq 0 ]
	jq -e '(.ct_sweeps | type == "number") and (.ct_sweep_max_us | type == "number")' <<<"$output" >/dev/null ||
		{ echo "counters -j lacks the sweeper: $output"; return 1; }
}

@test "the rule path's per-source bound: an eighth of the handoff table, set, off, kept by a reload" {
	local ho
	ho=$(bpftool -j map show pinned "$PIN/kanary_ho_v4" | jq .max_entries)
	run --separate-stderr k -j load
	[ "$status" -eq 0 ]
	jq_is .ho_per_source $((ho / 8))
	k load ho-per-source 40 >/dev/null
	run --separate-stderr k load
	[[ "$output" == *"rule-path connections one client address may hold: 40"* ]] ||
		{ echo "a reload lost the bound: $output"; return 1; }
	# The datapath reads it from this map.
	jq_is '.[0].formatted.value.per_source' 40 "$(bpftool -j map dump pinned "$PIN/kanary_hocfg_v1")"
	k load ho-per-source off >/dev/null
	run --separate-stderr k -j load
	jq_is .ho_per_source null
	run --separate-stderr k load
	[[ "$output" == *"rule-path connections one client address may hold: no bound"* ]]
	k load ho-per-source $((ho / 8)) >/dev/null
}

@test "load is idempotent: maps, sizes, seed and services are kept" {
	add_greeting
	local seed before
	seed=$(bpftool -j map dump pinned "$PIN/kanary_glob_v1" | jq '.[0].formatted.value.hash_seed')
	[ "$seed" != 0 ] && [ -n "$seed" ]
	before=$(snapshot)
	run --separate-stderr k load ct-size 4096
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"Warning: ct-size 4096 not applied"* ]]
	run --separate-stderr k -j load
	[ "$status" -eq 0 ]
	jq_is .ct_size 1024
	jq_is .max_services 16
	jq_is .max_backends 512
	[ "$(bpftool -j map show pinned "$PIN/kanary_ct_v3" | jq .max_entries)" = 1024 ]
	[ "$(bpftool -j map dump pinned "$PIN/kanary_glob_v1" | jq '.[0].formatted.value.hash_seed')" = "$seed" ]
	[ "$(snapshot)" = "$before" ]
	# Commits keep working on the reused maps.
	k weight set greeting safe 50 risky 50 >/dev/null
	jq_is '.cum_weight[0:2] | join(",")' 5000,10000 "$(map_cfg 0)"
}

@test "load http-stats off|on: the switch is set, kept by a plain reload, and reported" {
	local seed flags
	seed=$(bpftool -j map dump pinned "$PIN/kanary_glob_v1" | jq '.[0].formatted.value.hash_seed')
	run --separate-stderr k -j load
	jq_is .http_stats true
	run --separate-stderr k -j load http-stats off
	[ "$status" -eq 0 ]
	jq_is .http_stats false
	flags=$(bpftool -j map dump pinned "$PIN/kanary_glob_v1" | jq '.[0].formatted.value.flags')
	[ "$flags" = 1 ] || { echo "flags $flags, want 1 (KANARY_GLOBAL_F_NO_HTTP)"; return 1; }
	run --separate-stderr k -j load
	jq_is .http_stats false
	run --separate-stderr k load http-stats on
	[[ "$output" == *"HTTP accounting (requests, codes, latency per subset): on"* ]]
	[ "$(bpftool -j map dump pinned "$PIN/kanary_glob_v1" | jq '.[0].formatted.value.hash_seed')" = "$seed" ]
	expect_fail "expected http-stats on or http-stats off" load http-stats maybe
	expect_fail "expected http-stats on or http-stats off" load http-stats
}

@test "unload removes every pin; then commands say kanary is not loaded" {
	add_greeting
	# A stats map of the previous layout, as an upgrade leaves it.
	bpftool map create "$PIN/kanary_stat_v1" type percpu_array key 4 value 40 entries 8 name kanary_stat_v1
	run --separate-stderr k unload
	[ "$status" -eq 0 ]
	run ls "$PIN"
	[[ "$output" != *kanary_* && "$output" != *prog_* ]] || { echo "left: $output"; return 1; }
	run --separate-stderr k service list
	[ "$status" -ne 0 ]
	[[ "$stderr" == *"kanary is not loaded at $PIN (no $PIN/kanary_svc_v1): run 'kanaryctl load'"* ]]
	run --separate-stderr k unload
	[ "$status" -ne 0 ]
	[[ "$stderr" == *"nothing to unload"* ]]
	# Loading again starts empty.
	k load ct-size 1024 max-services 16 max-backends 512 >/dev/null
	run --separate-stderr k -j service list
	jq_is length 0
}

@test "a pinned map with an old layout is a clear error naming it" {
	k unload >/dev/null
	bpftool map create "$PIN/kanary_svc_v1" type hash key 4 value 8 entries 4 name kanary_svc_v1
	run --separate-stderr k load
	[ "$status" -ne 0 ]
	[[ "$stderr" == *"pinned map $PIN/kanary_svc_v1 has an old or foreign layout"* ]]
	run --separate-stderr k service list
	[ "$status" -ne 0 ]
	[[ "$stderr" == *"kanary_svc_v1 has an old or foreign layout"* ]]
	rm "$PIN/kanary_svc_v1"
}

@test "load mounts bpffs on a plain empty directory, refuses a non-empty one" {
	local plain full
	plain=$(mktemp -d /tmp/kanary-cli-plain.XXXXXX)
	full=$(mktemp -d /tmp/kanary-cli-full.XXXXXX)
	EXTRA_MOUNTS+=("$plain" "$full")
	[ "$(stat -f -c %T "$plain")" != bpf_fs ]
	run --separate-stderr nsenter --net="/run/netns/$NS" "$KCTL" --pin-path "$plain" load ct-size 64
	[ "$status" -eq 0 ] || { echo "$stderr"; return 1; }
	[ "$(stat -f -c %T "$plain")" = bpf_fs ]
	[ -e "$plain/kanary_svc_v1" ] && [ -e "$plain/prog_ingress" ] && [ -e "$plain/prog_egress" ]
	nsenter --net="/run/netns/$NS" "$KCTL" --pin-path "$plain" unload >/dev/null
	touch "$full/something"
	run --separate-stderr nsenter --net="/run/netns/$NS" "$KCTL" --pin-path "$full" load
	[ "$status" -ne 0 ]
	[[ "$stderr" == *"is not on a bpffs and is not empty"* ]]
	[ "$(stat -f -c %T "$full")" != bpf_fs ]
}

@test "KANARY_PIN_PATH is used when --pin-path is not given, and the flag wins" {
	k service add greeting 10.96.0.10:80 >/dev/null
	run --separate-stderr env KANARY_PIN_PATH="$PIN" nsenter --net="/run/netns/$NS" "$KCTL" -j service list
	[ "$status" -eq 0 ]
	jq_is '.[0].service' greeting
	run --separate-stderr env KANARY_PIN_PATH=/tmp/kanary-cli-nonexistent-$SUFFIX \
		nsenter --net="/run/netns/$NS" "$KCTL" --pin-path "$PIN" -j service list
	[ "$status" -eq 0 ]
	jq_is '.[0].service' greeting
}

@test "attach and detach a veth in our netns; tc shows our filters" {
	make_veth
	run --separate-stderr k attach vh0
	[ "$status" -eq 0 ]
	run tc -n "$NS" filter show dev vh0 ingress
	[[ "$output" == *"handle 0x4b41 kanary_ingress"*"direct-action"* ]] || { echo "$output"; return 1; }
	run tc -n "$NS" filter show dev vh0 egress
	[[ "$output" == *"handle 0x4b41 kanary_egress"*"direct-action"* ]] || { echo "$output"; return 1; }
	run --separate-stderr k -j iface list
	jq_is '[.[] | "\(.name):\(.ingress):\(.egress):\(.current)"] | join(",")' vh0:true:true:true
	# Attaching again replaces in place: still one filter per direction.
	k attach vh0 >/dev/null
	[ "$(tc -n "$NS" filter show dev vh0 ingress | grep -c 'handle 0x4b41')" = 1 ]
	# A typo changes nothing, even next to a good name.
	expect_fail "no interface 'nosuch0'" attach vp0 nosuch0
	[ -z "$(tc -n "$NS" filter show dev vp0 ingress)" ]
	expect_fail "kanary is not attached to vp0" detach vp0
	expect_fail "kanary is not attached to vp0" detach vh0 vp0
	[ "$(tc -n "$NS" filter show dev vh0 ingress | grep -c 'handle 0x4b41')" = 1 ]
	run --separate-stderr k -j detach vh0
	[ "$status" -eq 0 ]
	jq_is '.detached[0]' vh0
	[ -z "$(tc -n "$NS" filter show dev vh0 ingress)" ]
	[ -z "$(tc -n "$NS" filter show dev vh0 egress)" ]
	run --separate-stderr k -j iface list
	jq_is length 0
	expect_fail "kanary is not attached to vh0" detach vh0
}

@test "attach before load says to load; unload detaches this netns" {
	make_veth
	k unload >/dev/null
	expect_fail "kanary is not loaded at $PIN: run 'kanaryctl load'" attach vh0
	k load >/dev/null
	k attach vh0 vp0 >/dev/null
	[ "$(k -j iface list | jq length)" = 2 ]
	k unload >/dev/null
	[ -z "$(tc -n "$NS" filter show dev vh0 ingress)$(tc -n "$NS" filter show dev vp0 egress)" ]
}

@test "load moves this netns's attachments to the new programs; 'current' tells" {
	make_veth
	local ns2="kcli2-$SUFFIX" old new
	EXTRA_NS+=("$ns2")
	ip netns add "$ns2"
	k attach vh0 >/dev/null
	old=$(bpftool -j prog show pinned "$PIN/prog_ingress" | jq .id)
	# Loading from another netns replaces the pins but cannot move vh0.
	k_in "$ns2" load >/dev/null
	new=$(bpftool -j prog show pinned "$PIN/prog_ingress" | jq .id)
	[ "$old" != "$new" ]
	run --separate-stderr k -j iface list
	jq_is '.[0].current' false
	run tc -n "$NS" filter show dev vh0 ingress
	[[ "$output" == *"id $old "* ]]
	# Loading here moves it.
	run --separate-stderr k -j load
	jq_is '.interfaces | join(",")' vh0
	new=$(bpftool -j prog show pinned "$PIN/prog_ingress" | jq .id)
	run tc -n "$NS" filter show dev vh0 ingress
	[[ "$output" == *"id $new "* ]] || { echo "expected id $new: $output"; return 1; }
	run --separate-stderr k -j iface list
	jq_is '.[0].current' true
}

@test "stats: per-CPU counts are summed; shape of -j stats and counters" {
	add_greeting
	local ncpu
	ncpu=$(possible_cpus)
	# svc id 0: subset 0 gets 3 connections per CPU, subset 1 gets 1 per CPU;
	# then packets, bytes and requests (struct kanary_subset_stats order).
	bpftool map update pinned "$PIN/kanary_stat_v3" key 0 0 0 0 value $(u64s 3 2 5 7 11 13 17 19)
	bpftool map update pinned "$PIN/kanary_stat_v3" key 1 0 0 0 value $(u64s 1 0 1 1 1 1 23 0)
	bpftool map update pinned "$PIN/kanary_cnt_v4" key 3 0 0 0 value 2 0 0 0 0 0 0 0
	# Handoff counters of svc id 0 (struct kanary_ho_stats order): backend_silent 4,
	# switches 6, switch_failed 8, pinned[] by reason: 99 in the unused slot 0,
	# which must show nowhere, pipelined 9, unframed 10; the rest 0.
	bpftool map update pinned "$PIN/kanary_hostat_v2" key 0 0 0 0 value \
		$(u64s 0 4 0 0 0 0 6 8 99 9 0 0 0 0 0 10)
	# HTTP figures of safe, one shared copy (struct kanary_http_stats order):
	# 10 exchanges, 1 unanswered, 2 connections not HTTP; responses 200 x6,
	# 404, 503 and one other 5xx; all 9 in the bucket of 0.7-1 ms.
	local -a codes lat
	codes=($(for i in $(seq 0 31); do echo 0; done))
	lat=($(for i in $(seq 0 39); do echo 0; done))
	codes[0]=6 codes[13]=1 codes[24]=1 codes[30]=1 lat[8]=9
	bpftool map update pinned "$PIN/kanary_http_v1" key 0 0 0 0 value \
		$(u64s 10 1 2 0 "${codes[@]}" "${lat[@]}")
	# risky: 5 exchanges, 200 x3, 504 x2, all in the bucket of 3-5 ms.
	codes[13]=0 codes[24]=0 codes[30]=0 lat[8]=0
	codes[0]=3 codes[25]=2 lat[12]=5
	bpftool map update pinned "$PIN/kanary_http_v1" key 1 0 0 0 value \
		$(u64s 5 0 0 0 "${codes[@]}" "${lat[@]}")
	run --separate-stderr k -j stats
	[ "$status" -eq 0 ]
	jq_is '.[0] | "\(.service) \(.vip)"' "greeting 10.96.0.10:80"
	jq_is '.[0].subsets[0] | [.name, .weight_percent, .observed_percent, .connections, .rule_connections, .routed_requests, .rule_requests, .packets_in, .packets_out, .bytes_in, .bytes_out] | join(" ")' \
		"safe 80 75 $((3 * ncpu)) $((2 * ncpu)) $((17 * ncpu)) $((19 * ncpu)) $((5 * ncpu)) $((7 * ncpu)) $((11 * ncpu)) $((13 * ncpu))"
	# p50 and p99 by linear interpolation in the bucket, as histogram_quantile does.
	jq_is '.[0].subsets[0] | [.requests, .no_response, .other_connections, (.responses | tojson), (.error_percent * 10 | round), (.latency_ms | [.p50, .p90, .p99] | map(. * 1000 | round) | join(","))] | join(" ")' \
		'10 1 2 {"1xx":0,"2xx":6,"3xx":0,"4xx":1,"5xx":2,"codes":{"200":6,"404":1,"503":1}} 222 850,970,997'
	jq_is '.[0].subsets[1] | [.requests, .error_percent, (.latency_ms.p99 * 1000 | round)] | tojson' '[5,40,4980]'
	jq_is '.[0].handoff | keys_unsorted | join(",")' \
		backend_refused,backend_silent,beyond_first_flight,stash_lost,no_backend,state_lost,switches,switch_failed,pinned_pipelined,pinned_head_split,pinned_large,pinned_chunked,pinned_http2,pinned_not_http,pinned_unframed
	jq_is '.[0].handoff | [.backend_silent, .switches, .switch_failed, .pinned_pipelined, .pinned_head_split, .pinned_unframed] | join(" ")' \
		"$((4 * ncpu)) $((6 * ncpu)) $((8 * ncpu)) $((9 * ncpu)) 0 $((10 * ncpu))"
	jq_is '.[0].subsets[1] | [.name, .weight_percent, .observed_percent, .connections, .routed_requests, .rule_requests] | join(" ")' \
		"risky 20 25 $ncpu $((23 * ncpu)) 0"
	run --separate-stderr k stats greeting
	[[ "$output" == *"greeting"*"safe"*"80.00"*"75.00"*"$((3 * ncpu))"* ]]
	local squeezed
	squeezed=$(tr -s ' ' <<<"$output")
	[[ "$squeezed" == *"SERVICE VIP SUBSET WEIGHT% OBSERVED% CONNS REQS BY_RULE 5XX% P50MS P99MS BYTES"* ]]
	[[ "$squeezed" == *"greeting 10.96.0.10:80 safe 80.00 75.00 $((3 * ncpu)) 10 $((19 * ncpu)) 22.2 0.85 1.00 $((24 * ncpu))"* ]]
	[[ "$squeezed" == *"risky 20.00 25.00 $ncpu 5 0 40.0 4.00 4.98 $((2 * ncpu))"* ]]
	# The canary beside the heaviest subset; worse on both counts.
	[[ "$squeezed" == *"greeting: risky vs safe: 5xx 40.0% vs 22.2% (+17.8 pts) p99 4.98 ms vs 1.00 ms (x4.99) WORSE"* ]]
	[[ "$output" == *"no_backend $((2 * ncpu))"* ]]
	[[ "$output" == *"handoff greeting:  backend_refused 0  backend_silent $((4 * ncpu))"* ]]
	local pair
	for pair in "switches $((6 * ncpu))" "switch_failed $((8 * ncpu))" \
		"pinned_pipelined $((9 * ncpu))" "pinned_head_split 0" "pinned_unframed $((10 * ncpu))"; do
		[[ "$output" =~ [[:space:]]"$pair"($|[[:space:]]) ]] || { echo "no '$pair' in: $output"; return 1; }
	done
	[[ "$output" != *"$((99 * ncpu))"* ]]
	# The handoff lines wrap to stay within 100 columns.
	local line
	while IFS= read -r line; do
		[ "${#line}" -le 100 ] || { echo "wider than 100: '$line'"; return 1; }
	done <<<"$output"
	run --separate-stderr k -j counters
	jq_is 'keys_unsorted | join(",")' ct_new,ct_rederived,ct_reused,no_backend,ct_rev_rebuilt,rst_inexact,rst_outside,syn_on_live,draining,challenge_limited,ct_ended,ct_half_open,ct_expiry_full,ct_sweeper_fail,ho_cookie,ct_established,ho_source_limit,ho_server_first,ho_detect_full,ct_expired_early,ct_sweeps,ct_sweep_max_us
	jq_is .no_backend $((2 * ncpu))
}

@test "stats --watch prints a JSON line per sample with rates, and Ctrl-C ends it cleanly" {
	add_greeting
	local out=$BATS_TEST_TMPDIR/watch.out pid n rc
	nsenter --net="/run/netns/$NS" "$KCTL" --pin-path "$PIN" -j stats --watch 1 >"$out" 2>&1 &
	pid=$!
	# Wait (bounded) for two samples; no timing is asserted.
	for n in $(seq 1 150); do
		[ "$(wc -l <"$out")" -ge 2 ] && break
		sleep 0.2
	done
	kill -INT "$pid"
	rc=0
	wait "$pid" || rc=$?
	[ "$rc" -eq 0 ] || { echo "watch exited $rc: $(cat "$out")"; return 1; }
	[ "$(wc -l <"$out")" -ge 2 ] || { echo "fewer than two samples: $(cat "$out")"; return 1; }
	# Every line is one document; the first has no rates, the second has them.
	while read -r line; do jq -e 'type == "array"' <<<"$line" >/dev/null; done <"$out"
	jq_is '.[0].subsets[0] | has("connections_per_sec")' false "$(sed -n 1p "$out")"
	jq_is '.[0].subsets[0].connections_per_sec' 0 "$(sed -n 2p "$out")"
}

@test "concurrent writers do not lose each other's commits (the instance lock)" {
	k service add greeting 10.96.0.10:80 >/dev/null
	local pids=() n p
	for n in $(seq 1 16); do
		k backend add greeting safe "10.1.0.$n:80" >/dev/null 2>&1 &
		pids+=($!)
	done
	for p in "${pids[@]}"; do wait "$p"; done
	run --separate-stderr k -j service show greeting
	jq_is '.subsets[0].backends | length' 16
	jq_is .generation 17
}

@test "a writer waits while another holds the instance lock" {
	k service add greeting 10.96.0.10:80 >/dev/null
	local lockfd pid n blocked=0 gen_held rc=0
	exec {lockfd}<"$PIN"
	flock -x "$lockfd"
	nsenter --net="/run/netns/$NS" "$KCTL" --pin-path "$PIN" backend add greeting safe 10.0.0.1:8080 \
		>/dev/null 2>&1 &
	pid=$!
	# Wait (bounded) until the kernel lists it as blocked on our flock.
	for n in $(seq 1 150); do
		if grep -Eq -- "-> FLOCK +ADVISORY +WRITE +$pid " /proc/locks; then
			blocked=1
			break
		fi
		kill -0 "$pid" 2>/dev/null || break	# it finished: it did not wait
		sleep 0.2
	done
	gen_held=$(map_cfg 0 | jq .generation)	# read the map directly: kanaryctl would wait too
	flock -u "$lockfd"
	exec {lockfd}<&-
	wait "$pid" || rc=$?
	[ "$blocked" = 1 ] || { echo "the writer did not wait for the lock"; return 1; }
	[ "$gen_held" = 1 ] || { echo "generation $gen_held while the lock was held"; return 1; }
	[ "$rc" = 0 ]
	jq_is .generation 2 "$(map_cfg 0)"
}
