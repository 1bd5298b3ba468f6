#!/usr/bin/env bats
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# kanaryctl route add / list / del on a private bpffs and netns: what lands
# in the rules map (read with bpftool, not through kanaryctl), order and
# indexes, weighted destinations, limits, JSON, and bad input that must
# change nothing.
#
# Until the loader pins kanary_rules_v1 itself (bpf/lib/maps.h), setup
# creates it the way maps.h will define it, sized from the struct's BTF in
# the datapath's object, and says so in the TAP output.

load helpers

RULES_OBJ=$ROOT/.output/kanary.bpf.o
RULES_SIZE=	# bytes of struct kanary_rules, from BTF

setup() {
	setup_env
	run --separate-stderr k route help
	[ "$status" -eq 0 ] || { echo "kanaryctl has no 'route' command: add do_route to user/ctl/main.c ($stderr)"; return 1; }
	run --separate-stderr k load ct-size 1024 max-services 16 max-backends 512
	[ "$status" -eq 0 ] || { echo "load failed: $stderr"; return 1; }
	[ -f "$RULES_OBJ" ] || { echo "$RULES_OBJ is not built: run make"; return 1; }
	RULES_SIZE=$(bpftool btf dump file "$RULES_OBJ" | sed -n "s/^.*STRUCT 'kanary_rules' size=\([0-9]*\) .*$/\1/p")
	[ -n "$RULES_SIZE" ] || { echo "no struct kanary_rules in the BTF of $RULES_OBJ"; return 1; }
	if [ ! -e "$PIN/kanary_rules_v1" ]; then
		[ "$BATS_TEST_NUMBER" = 1 ] &&
			echo "# note: the loader does not pin kanary_rules_v1 yet; the test creates it as maps.h will" >&3
		bpftool map create "$PIN/kanary_rules_v1" type hash key 4 value "$RULES_SIZE" \
			entries 16 name kanary_rules_v1 flags 1 ||
			{ echo "cannot create the rules map"; return 1; }
	fi
	k service add greeting 10.96.0.10:80 tcp >/dev/null 2>&1 &&
		k backend add greeting safe 10.0.0.1:8080 >/dev/null 2>&1 &&
		k backend add greeting risky 10.0.0.2:8080 >/dev/null 2>&1 &&
		k weight set greeting safe 80 risky 20 >/dev/null 2>&1 ||
		{ echo "cannot set up service greeting"; return 1; }
}

teardown() {
	teardown_env
}

# The rules entry of service id $1 as hex bytes, one per line ("" when absent).
rules_bytes() {
	bpftool -j map lookup pinned "$PIN/kanary_rules_v1" key "$1" 0 0 0 2>/dev/null |
		jq -r '.value[]'
}

# u32 at byte offset $2 of the hex bytes $1 (little endian).
u32_at() {
	local -a b
	mapfile -t b <<<"$1"
	echo $((b[$2] + (b[$2 + 1] << 8) + (b[$2 + 2] << 16) + (b[$2 + 3] << 24)))
}

# $3 bytes at offset $2 of the hex bytes $1, as text.
text_at() {
	local -a b
	local out="" j
	mapfile -t b <<<"$1"
	for ((j = $2; j < $2 + $3; j++)); do
		out+=$(printf "\\x${b[j]#0x}")
	done
	echo "$out"
}

# Layout of struct kanary_rules (include/kanary/rules.h).
OFF_N_RULES=68
OFF_N_CONDS=72
OFF_FLAGS=76	# KANARY_RULES_F_PER_REQUEST = 1
OFF_CONDS=80
COND_SIZE=132
OFF_RULES=$((80 + 32 * 132))
RULE_SIZE=92

@test "route help, plain and JSON, shares the grammar fragments" {
	run --separate-stderr k route help
	[ "$status" -eq 0 ]
	[[ "$output" == *"Usage: kanaryctl [OPTIONS] route add SERVICE COND..."* ]]
	[[ "$output" == *"COND    := { header NAME=VALUE | header NAME^=PREFIX | header NAME |"* ]]
	[[ "$output" == *"SERVICE := NAME"* && "$output" == *"SUBSET  := NAME"* ]]
	[[ "$output" == *"WEIGHT  := 0 to 1000000"* && "$output" == *"INDEX   := "* ]]
	run --separate-stderr k -j route help
	[ "$status" -eq 0 ]
	jq -e '.help | contains("route del SERVICE INDEX")' <<<"$output" >/dev/null
	jq -e '.help | contains("route per-request SERVICE { on | off }")' <<<"$output" >/dev/null
	run --separate-stderr k help
	[[ "$output" == *"route { add | del | list | per-request | help }"* ]] ||
		{ echo "kanaryctl help does not list route: $output"; return 1; }
}

@test "route add writes what the datapath reads" {
	local id v c r
	run --separate-stderr k route add greeting header X-My-Header=dark to risky
	[ "$status" -eq 0 ] || { echo "$stderr"; return 1; }
	[[ "$output" == *"rule 1 added to service greeting"* ]]
	id=$(k -j service show greeting | jq -r .id)
	v=$(rules_bytes "$id")
	[ -n "$v" ] || { echo "no rules entry for service id $id"; return 1; }
	[ "$(text_at "$v" 0 8)" = greeting ]
	[ "$(u32_at "$v" $OFF_N_RULES)" = 1 ]
	[ "$(u32_at "$v" $OFF_N_CONDS)" = 1 ]
	c=$OFF_CONDS	# kind header(1), op exact(1), name_len, value_len, name, value
	mapfile -t b <<<"$v"
	[ "$((b[c]))" = 1 ] && [ "$((b[c + 1]))" = 1 ]
	[ "$((b[c + 2]))" = 11 ] && [ "$((b[c + 3]))" = 4 ]
	[ "$(text_at "$v" $((c + 4)) 11)" = x-my-header ]	# lowercased
	[ "$(text_at "$v" $((c + 68)) 4)" = dark ]
	r=$OFF_RULES	# match_mask[0] = bit 0, dest_subset[0] = risky, cum parts 10000
	[ "$(u32_at "$v" $r)" = 1 ]
	[ "$(u32_at "$v" $((r + 48)))" = 10000 ]
	[ "$((b[r + 80]))" = "$(k -j weight show greeting | jq '[.subsets[].name] | index("risky")')" ]
	[ "$((b[r + 88]))" = 1 ] && [ "$((b[r + 89]))" = 1 ]	# n_matches, n_dests
}

@test "route list shows rules in order, as words route add takes back" {
	local words
	k route add greeting header x-my-header=dark to risky >/dev/null
	k route add greeting header x-beta path ^/api or header 'x-q=hello world' to risky 1 safe 3 >/dev/null
	k route add greeting path =/health to safe >/dev/null
	run --separate-stderr k -j route list greeting
	[ "$status" -eq 0 ]
	jq_is '.rules | length' 3
	jq_is '[.rules[].index] | join(",")' 1,2,3
	jq_is '.rules[0].match[0][0] | "\(.type) \(.name) \(.match) \(.value)"' "header x-my-header exact dark"
	jq_is '.rules[1].match | length' 2
	jq_is '.rules[1].match[0][0] | "\(.name) \(.match) \(has("value"))"' "x-beta present false"
	jq_is '.rules[1].match[0][1] | "\(.type) \(.match) \(.value)"' "path prefix /api"
	jq_is '.rules[1].match[1][0].value' "hello world"
	jq_is '.rules[1].to | map("\(.subset)=\(.percent)") | join(",")' "risky=25,safe=75"
	jq_is '.rules[2].match[0][0] | "\(.type) \(.match) \(.value)"' "path exact /health"
	run --separate-stderr k route list greeting
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == "service greeting: 3 rules, tried in order"* ]]
	[[ "${lines[3]}" == "2 "*"header x-beta path ^/api or header 'x-q=hello world'"*"risky 1 safe 3" ]] ||
		{ echo "rule 2 reads: ${lines[3]}"; return 1; }
	# The words of rule 2 add the same conditions again: no new condition.
	[ "$(u32_at "$(rules_bytes 0)" $OFF_N_CONDS)" = 5 ]
	words=$(sed -n 's/^2 *\(header .*world'"'"'\) .*$/\1/p' <<<"${lines[3]}")
	[ -n "$words" ] || { echo "no words in: ${lines[3]}"; return 1; }
	eval "k route add greeting $words to safe" >/dev/null
	[ "$(u32_at "$(rules_bytes 0)" $OFF_N_CONDS)" = 5 ]
	[ "$(u32_at "$(rules_bytes 0)" $OFF_N_RULES)" = 4 ]
}

@test "route del renumbers, and the last one removes the entry" {
	k route add greeting header x-a to risky >/dev/null
	k route add greeting header x-b to risky >/dev/null
	k route add greeting header x-c to risky >/dev/null
	run --separate-stderr k -j route del greeting 2
	[ "$status" -eq 0 ] || { echo "$output $stderr"; return 1; }
	jq_is '[.rules[].match[0][0].name] | join(",")' x-a,x-c
	jq_is '[.rules[].index] | join(",")' 1,2
	[ "$(u32_at "$(rules_bytes 0)" $OFF_N_CONDS)" = 2 ]
	run --separate-stderr k route del greeting 1
	[ "$status" -eq 0 ]
	[[ "$output" == *"rule 1 of service greeting deleted"* ]]
	run --separate-stderr k route del greeting 1
	[ "$status" -eq 0 ]
	[[ "$output" == *"has no rules"* ]]
	[ -z "$(rules_bytes 0)" ] || { echo "an empty rule set left an entry behind"; return 1; }
	run --separate-stderr k -j route list greeting
	jq_is '.rules | length' 0
}

@test "commands and keywords take unique prefixes" {
	run --separate-stderr k ro a greeting head x-a=1 pa ^/p to risky
	[ "$status" -eq 0 ] || { echo "$stderr"; return 1; }
	run --separate-stderr k -j ro l greeting
	[ "$status" -eq 0 ]
	jq_is '.rules[0].match[0] | map(.type) | join(",")' header,path
	run --separate-stderr k route
	[ "$status" -ne 0 ]
	[[ "$stderr" == *"missing route command: expected add, del, list, show, per-request or help"* ]]
}

# expect_route_fail MESSAGE ARGS...: as expect_fail, and the rules map is untouched.
expect_route_fail() {
	local before after
	before=$(bpftool -j map dump pinned "$PIN/kanary_rules_v1")
	expect_fail "$@" || return 1
	after=$(bpftool -j map dump pinned "$PIN/kanary_rules_v1")
	[ "$before" = "$after" ] || { echo "kanaryctl ${*:2} changed the rules map"; return 1; }
}

@test "bad input is refused, says what was expected, and changes nothing" {
	k route add greeting header x-keep=1 to risky >/dev/null
	expect_route_fail "missing argument: expected SERVICE" route add
	expect_route_fail "no service named 'nope'" route add nope header x=1 to risky
	expect_route_fail "missing condition: expected header or path before 'to'" route add greeting to risky
	expect_route_fail "missing 'to SUBSET'" route add greeting header x=1
	expect_route_fail "missing argument: expected SUBSET after 'to'" route add greeting header x=1 to
	expect_route_fail "has no subset 'canary' (it has: safe, risky)" route add greeting header x=1 to canary
	expect_route_fail "what is 'cookie'? expected header, path, 'or' or 'to'" route add greeting cookie x=1 to risky
	expect_route_fail "missing argument: expected NAME=VALUE, NAME^=PREFIX or NAME after 'header'" route add greeting header
	expect_route_fail "header name 'x y' has ' '" route add greeting header 'x y=1' to risky
	expect_route_fail "has no name" route add greeting header =dark to risky
	expect_route_fail "starts with a space" route add greeting header 'x= dark' to risky
	expect_route_fail "empty prefix" route add greeting header 'x^=' to risky
	expect_route_fail "expected =PATH (exact) or ^PREFIX" route add greeting path /api to risky
	expect_route_fail "must start with '/'" route add greeting path =api to risky
	expect_route_fail "excludes the query" route add greeting path '=/a?b=1' to risky
	expect_route_fail "dot segment" route add greeting path =/a/../b to risky
	expect_route_fail "'or' needs conditions before it" route add greeting or header x to risky
	expect_route_fail "'or' at the end" route add greeting header x or to risky
	expect_route_fail "at most 4 conditions" route add greeting header a header b header c header d header e to risky
	expect_route_fail "at most 4 alternatives" route add greeting header a or header b or header c or header d or header e to risky
	expect_route_fail "subset 'safe' has no weight" route add greeting header x to risky 50 safe
	expect_route_fail "subset 'risky' is named twice" route add greeting header x to risky 50 risky 50
	expect_route_fail "every destination of the rule has weight 0" route add greeting header x to risky 0 safe 0
	expect_route_fail "subset risky:" route add greeting header x to risky lots safe 1
	expect_route_fail "rule index 0 is out of range: expected 1 to 8" route del greeting 0
	expect_route_fail "service greeting has 1 rule: expected INDEX 1 to 1" route del greeting 2
	expect_route_fail "is not a valid rule index" route del greeting one
	expect_route_fail "missing argument: expected SERVICE INDEX" route del greeting
	expect_route_fail "what is 'x'? expected nothing after SERVICE" route list greeting x
	run --separate-stderr k -j route list greeting
	jq_is '.rules | length' 1
}

@test "limits: 8 rules, 32 distinct conditions" {
	local n
	for n in 1 2 3 4 5 6 7 8; do
		k route add greeting header "x-$n-a" header "x-$n-b" header "x-$n-c" header "x-$n-d" to risky >/dev/null ||
			{ echo "rule $n was refused"; return 1; }
	done
	[ "$(u32_at "$(rules_bytes 0)" $OFF_N_CONDS)" = 32 ]
	expect_route_fail "already has 8 rules" route add greeting header x-1-a to risky
	k route del greeting 8 >/dev/null
	expect_route_fail "at most 32 distinct conditions" route add greeting header x-new-a header x-new-b header x-new-c header x-new-d or header x-new-e to risky
	run --separate-stderr k route add greeting header x-1-a header x-2-b to safe	# shared: no new bits
	[ "$status" -eq 0 ] || { echo "$stderr"; return 1; }
	[ "$(u32_at "$(rules_bytes 0)" $OFF_N_CONDS)" = 28 ]
}

@test "a warning when a destination has no backends" {
	k weight set greeting canary 0 >/dev/null 2>&1
	run --separate-stderr k route add greeting header x-c to canary
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"Warning: subset canary of service greeting has no backends yet"* ]]
	run --separate-stderr k -j route add greeting header x-d to canary
	[ "$status" -eq 0 ]
	jq -e '[.warnings[] | select(test("subset canary of service greeting has no backends"))] | length == 1' <<<"$output" >/dev/null
}

@test "route add to subsets with backends warns of nothing" {
	run --separate-stderr k route add greeting header x-my-header=dark to risky
	[ "$status" -eq 0 ]
	[ -z "$stderr" ] || { echo "unexpected: $stderr"; return 1; }
	run --separate-stderr k -j route add greeting header x-other to risky
	[ "$status" -eq 0 ]
	jq -e '(.warnings // []) | length == 0' <<<"$output" >/dev/null
}

@test "every route command prints one JSON document" {
	local cmd
	for cmd in "route add greeting header x-a to risky" "route list greeting" "route del greeting 1" \
		"route per-request greeting on" "route show greeting" "route per-request greeting off"; do
		# shellcheck disable=SC2086
		run --separate-stderr k -j $cmd
		[ "$status" -eq 0 ] || { echo "$cmd: $stderr"; return 1; }
		[ "$(jq -s length <<<"$output")" = 1 ] || { echo "$cmd: $output"; return 1; }
		jq -e '.service == "greeting" and (.rules | type == "array")' <<<"$output" >/dev/null
	done
}

@test "a service deleted and added again starts without rules" {
	k route add greeting header x-a to risky >/dev/null
	k service del greeting >/dev/null
	[ -z "$(rules_bytes 0)" ] ||
		{ echo "service del left its rules in kanary_rules_v1, where the datapath would still read them: kanary_service_del must call kanary_rules_clear"; return 1; }
	k service add greeting 10.96.0.10:80 >/dev/null 2>&1
	[ "$(k -j service show greeting | jq .id)" = 0 ] || { echo "the new service did not get id 0 again"; return 1; }
	run --separate-stderr k -j route list greeting
	[ "$status" -eq 0 ]
	jq_is '.rules | length' 0
}

@test "route per-request: an entry with no rules, kept by route del, gone when off" {
	run --separate-stderr k -j route per-request greeting on
	[ "$status" -eq 0 ] || { echo "$stderr"; return 1; }
	jq_is '.per_request' true
	jq_is '.rules | length' 0
	[ "$(u32_at "$(rules_bytes 0)" $OFF_N_RULES)" = 0 ] || { echo "no entry, or rules in it"; return 1; }
	[ "$(u32_at "$(rules_bytes 0)" $OFF_FLAGS)" = 1 ]
	[ "$(text_at "$(rules_bytes 0)" 0 8)" = greeting ]
	run --separate-stderr k route show greeting
	[[ "$output" == *"service greeting has no rules: every request takes the weighted split on its own (per-request on)"* ]] ||
		{ echo "$output"; return 1; }
	# A rule comes and goes: the opt-in stays.
	k route add greeting header x-a to risky >/dev/null
	[ "$(u32_at "$(rules_bytes 0)" $OFF_FLAGS)" = 1 ]
	run --separate-stderr k route list greeting
	[[ "$output" == *"per-request on"* ]] || { echo "$output"; return 1; }
	k route del greeting 1 >/dev/null
	[ "$(u32_at "$(rules_bytes 0)" $OFF_N_RULES)" = 0 ] || { echo "route del of the last rule dropped the per-request entry"; return 1; }
	[ "$(u32_at "$(rules_bytes 0)" $OFF_FLAGS)" = 1 ]
	# Prefixes, as elsewhere; off with no rules removes the entry.
	run --separate-stderr k ro pe greeting of
	[ "$status" -eq 0 ] || { echo "$stderr"; return 1; }
	[[ "$output" == *"per-request off for service greeting"* ]]
	[[ "$output" == *"every connection takes the weighted split"* ]]
	[ -z "$(rules_bytes 0)" ] || { echo "per-request off without rules left an entry"; return 1; }
	run --separate-stderr k -j route list greeting
	jq_is '.per_request' false
	# Off with rules keeps them.
	k route add greeting header x-a to risky >/dev/null
	k route per-request greeting on >/dev/null
	k route per-request greeting off >/dev/null
	[ "$(u32_at "$(rules_bytes 0)" $OFF_N_RULES)" = 1 ]
	[ "$(u32_at "$(rules_bytes 0)" $OFF_FLAGS)" = 0 ]
}

@test "route per-request: bad input is refused and changes nothing" {
	k route per-request greeting on >/dev/null
	expect_route_fail "missing argument: expected SERVICE on|off" route per-request
	expect_route_fail "missing argument: expected SERVICE on|off" route per-request greeting
	expect_route_fail "what is 'yes'? expected on or off" route per-request greeting yes
	expect_route_fail "what is 'o'? expected on or off" route per-request greeting o
	expect_route_fail "what is 'now'? expected nothing after on|off" route per-request greeting off now
	expect_route_fail "no service named 'nope'" route per-request nope on
	[ "$(u32_at "$(rules_bytes 0)" $OFF_FLAGS)" = 1 ]
}
