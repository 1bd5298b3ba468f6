#!/usr/bin/env bats
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# VirtualService http[].match routes become dark-release rules in the maps
# (kanary_rules_v1, read back with `kanaryctl -j route list`), ahead of the
# weighted split; an edit that drops them removes them; a match kanary
# cannot evaluate is reported and makes no rule, above all no broader one.
# Traffic by header is the datapath's test, not this one.

source "$BATS_TEST_DIRNAME/kanaryd.bash"

setup_file() {
	kd_setup_file || return 1
	kd_start
}
teardown_file() { kd_teardown_file; }

# write_vs HTTP_ROUTES: the greeting VirtualService with these http[] routes
# (YAML at two spaces) ahead of the 80/20 split, written as an editor does.
write_vs() {
	local f="$KD_MANIFESTS/virtualservice.yaml"
	{
		printf 'apiVersion: networking.istio.io/v1beta1\nkind: VirtualService\n'
		printf 'metadata:\n  name: greeting\n  namespace: default\nspec:\n  hosts:\n  - greeting\n  http:\n'
		printf '%s' "$1"
		cat <<'EOF2'
  - route:
    - destination:
        host: greeting
        subset: safe
      weight: 80
    - destination:
        host: greeting
        subset: risky
      weight: 20
EOF2
	} >"$f.tmp" && mv "$f.tmp" "$f"
}

DARK_ROUTE='  - match:
    - headers:
        x-my-header:
          exact: dark
    route:
    - destination:
        host: greeting
        subset: risky
'

# rules_json: what the rules map holds for the greeting service.
rules_json() {
	kctl -j route list "$KD_SERVICE"
}

# kd_wait_rules FILTER: polls (up to 10 s) until FILTER holds for rules_json.
kd_wait_rules() {
	local got=""
	for _ in $(seq 100); do
		got=$(rules_json 2>/dev/null) || true	# absent for a moment: keep polling
		jq -e "$1" <<<"$got" >/dev/null 2>&1 && { echo "ok: rules: $1"; return 0; }
		sleep 0.1
	done
	echo "FAIL: the rules map never had $1; it holds: $got" >&2
	tail -20 "$KD_LOG" >&2
	return 1
}

# kd_wait_problem TEXT: polls (up to 10 s) until a problem in the status contains TEXT.
kd_wait_problem() {
	for _ in $(seq 100); do
		kctl -j status 2>/dev/null | jq -e --arg t "$1" 'any(.problems[].message; contains($t))' \
			>/dev/null 2>&1 && { echo "ok: problem reported: $1"; return 0; }
		sleep 0.1
	done
	echo "FAIL: no problem containing '$1'; problems:" >&2
	kd_status '.problems' >&2
	return 1
}

@test "a header route to risky is a rule in the maps, ahead of the 80/20 split" {
	write_vs "$DARK_ROUTE"
	kd_wait_rules '.rules | length == 1'
	rules_json | jq .
	expect_eq "$(rules_json | jq -c '.rules[0].match')" \
		'[[{"type":"header","name":"x-my-header","match":"exact","value":"dark"}]]' "the rule's match"
	expect_eq "$(rules_json | jq -c '[.rules[0].to[] | {subset, weight}]')" '[{"subset":"risky","weight":100}]' \
		"where the rule sends connections"
	expect_eq "$(kd_weights "$KD_SERVICE")" "safe=80 risky=20" "weights in the maps"
	expect_eq "$(kd_status '.services[] | select(.name == "default/greeting") | .rules | length')" 1 \
		"rules in kanaryd's status"
	kctl status | grep -E '^  default/greeting .*; 1 rule$' ||
		{ echo "FAIL: kanaryctl status does not count the rule:" >&2; kctl status >&2; return 1; }
	expect_eq "$(kd_status '[.problems[].message | select(contains("default/greeting"))] | length')" 0 \
		"problems about greeting"
}

@test "editing the match route away removes the rule" {
	write_vs "$DARK_ROUTE"
	kd_wait_rules '.rules | length == 1'
	write_vs ""
	kd_wait_rules '.rules | length == 0'
	expect_eq "$(kd_weights "$KD_SERVICE")" "safe=80 risky=20" "weights in the maps"
	kctl route list "$KD_SERVICE" | grep -q "has no rules" ||
		{ echo "FAIL: kanaryctl route list still shows rules" >&2; kctl route list "$KD_SERVICE" >&2; return 1; }
}

@test "a regex match is reported and makes no rule, not even a broader one" {
	write_vs "$DARK_ROUTE"
	kd_wait_rules '.rules | length == 1'
	# The exact header alone would be broader than this route: it must not become a rule.
	write_vs '  - match:
    - headers:
        x-my-header:
          exact: dark
        cookie:
          regex: "^(.*;)?user=jason(;.*)?$"
    route:
    - destination:
        host: greeting
        subset: risky
  - match:
    - headers:
        x-later:
          exact: "1"
    route:
    - destination:
        host: greeting
        subset: risky
'
	kd_wait_problem "spec.http[0].match[0].headers.cookie.regex: regex matches are not supported"
	kd_wait_problem "spec.http[0] is not applied to port 80"
	kd_wait_rules '.rules | length == 0'
	expect_eq "$(kd_weights "$KD_SERVICE")" "safe=80 risky=20" "weights in the maps"
	grep -q "warning: .*virtualservice.yaml:.*spec.http\[0\] is not applied to port 80 as a dark-release rule" "$KD_LOG" ||
		{ echo "FAIL: no warning in the log" >&2; tail -5 "$KD_LOG" >&2; return 1; }
	kctl status | grep -q "regex matches are not supported" ||
		{ echo "FAIL: kanaryctl status does not show the problem" >&2; kctl status >&2; return 1; }
}

# annotate_greeting [VALUE]: services.yaml with kanary.io/per-request: VALUE
# on the greeting Service (none without VALUE), written as an editor does.
annotate_greeting() {
	local f="$KD_MANIFESTS/services.yaml"
	[[ -f $KN_TMP/services.orig ]] || cp "$f" "$KN_TMP/services.orig"
	awk -v v="${1-}" '{ print }
		/^  annotations:$/ && ++n == 2 && v != "" { print "    kanary.io/per-request: \"" v "\"" }' \
		"$KN_TMP/services.orig" >"$f.tmp" && mv "$f.tmp" "$f"
}

@test "kanary.io/per-request: \"true\" keeps an entry with no rules; a bad value keeps the last good" {
	write_vs ""
	annotate_greeting true
	grep -q 'kanary.io/per-request: "true"' "$KD_MANIFESTS/services.yaml"
	kd_wait_rules '.per_request == true and (.rules | length == 0)'
	kd_status_settled
	kctl status | grep -E '^  default/greeting .*; per-request$' ||
		{ echo "FAIL: kanaryctl status does not say per-request:" >&2; kctl status >&2; return 1; }
	# With a rule and without it again: still on.
	write_vs "$DARK_ROUTE"
	kd_wait_rules '.per_request == true and (.rules | length == 1)'
	write_vs ""
	kd_wait_rules '.per_request == true and (.rules | length == 0)'
	annotate_greeting maybe
	kd_wait_problem "metadata.annotations.kanary.io/per-request: expected \"true\" or \"false\", got 'maybe'"
	grep -q "services.yaml:[0-9]*:.*kanary.io/per-request" "$KD_LOG" ||
		{ echo "FAIL: no file:line for the bad annotation in the log" >&2; tail -5 "$KD_LOG" >&2; return 1; }
	kd_wait_rules '.per_request == true'
	expect_eq "$(kd_weights "$KD_SERVICE")" "safe=80 risky=20" "weights in the maps"
	annotate_greeting
	kd_wait_rules '.per_request == false and (.rules | length == 0)'
}
