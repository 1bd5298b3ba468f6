#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# A canary rollout judged the way Flagger judges one, on kanary's figures:
# step the canary's weight up, and after each step ask Prometheus (which
# scrapes kanaryd --istio-metrics) Flagger's two built-in Istio checks,
# request success rate and request duration p99, for the canary workload.
# Promote when every step passes; roll back at the first that does not.
# A demonstration of the figures, not a second Flagger.
#
# usage: canary-rollout.sh PROMETHEUS_URL NAMESPACE CANARY_WORKLOAD
# environment:
#   SET_WEIGHT   command run with the canary's weight (0-100) to apply it,
#                e.g. a script that patches the VirtualService (required)
#   STEPS        weights to step through (default "10 20 50")
#   INTERVAL     seconds to wait at each step, also the query window (default 30)
#   MIN_SUCCESS  lowest success rate in percent (default 99)
#   MAX_P99_MS   highest p99 in milliseconds (default 500)
# Prints one line per step; exit status 0: promoted, 1: rolled back, 2: usage.
set -u

PROM=${1:?usage: canary-rollout.sh PROMETHEUS_URL NAMESPACE CANARY_WORKLOAD}
NS=${2:?namespace}
CANARY=${3:?canary workload}
: "${SET_WEIGHT:?SET_WEIGHT: the command that applies a canary weight}"
STEPS=${STEPS:-10 20 50}
INTERVAL=${INTERVAL:-30}
MIN_SUCCESS=${MIN_SUCCESS:-99}
MAX_P99_MS=${MAX_P99_MS:-500}

# Flagger's built-in Istio metric templates, with its variables filled in.
sel="reporter=\"destination\",destination_workload_namespace=\"$NS\",destination_workload=~\"$CANARY\""
success_q="sum(rate(istio_requests_total{$sel,response_code!~\"5.*\"}[${INTERVAL}s])) / sum(rate(istio_requests_total{$sel}[${INTERVAL}s])) * 100"
p99_q="histogram_quantile(0.99, sum(rate(istio_request_duration_milliseconds_bucket{$sel}[${INTERVAL}s])) by (le))"

# query PROMQL: the instant value, or "" when Prometheus has none (no traffic).
query() {
	curl -sS --fail --max-time 10 "$PROM/api/v1/query" --data-urlencode "query=$1" |
		jq -r '.data.result[0].value[1] // empty | select(. != "NaN")'
}

apply() {
	$SET_WEIGHT "$1" || { echo "canary-rollout: SET_WEIGHT $1 failed" >&2; exit 2; }
}

for w in $STEPS; do
	apply "$w"
	sleep "$INTERVAL"
	sr=$(query "$success_q") p99=$(query "$p99_q")
	echo "step ${w}%: success ${sr:-none}%, p99 ${p99:-none} ms"
	if [[ -z $sr ]] || awk -v v="$sr" -v min="$MIN_SUCCESS" 'BEGIN { exit !(v < min) }' ||
		{ [[ -n $p99 ]] && awk -v v="$p99" -v max="$MAX_P99_MS" 'BEGIN { exit !(v > max) }'; }; then
		apply 0
		echo "rolled back at ${w}%: success ${sr:-none}% (minimum $MIN_SUCCESS), p99 ${p99:-none} ms (maximum $MAX_P99_MS)"
		exit 1
	fi
done
apply 100
echo "promoted: every step passed"
