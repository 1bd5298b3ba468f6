# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# shellcheck shell=bash
# What a longer service list costs each contender:
#   scale_iptables  new-connection rate through kube-proxy-style rules at N
#                   services (ours last in KUBE-SERVICES: the linear walk's
#                   worst case), repetitions in rotated order
#   scale_bpf       kanary's per-packet cost at the same N (bin/kanary_bpf_cost)

# scale_iptables SECS REPS N...: one JSON object {runs: [...]} on stdout.
scale_iptables() {
	local secs=$1 reps=$2 rep i n json
	shift 2
	local -a counts=("$@")
	for ((rep = 0; rep < reps; rep++)); do
		for ((i = 0; i < ${#counts[@]}; i++)); do
			n=${counts[$(((i + rep) % ${#counts[@]}))]}
			iptables_install "$n" || return 1
			json=$(load_rps "$(iptables_url)" "$secs" close) || { iptables_remove; return 1; }
			iptables_remove
			jq -c --argjson n "$n" --argjson rep "$((rep + 1))" '{services: $n, rep: $rep, rps: .rps, errors: .errors}' <<<"$json"
			printf '    iptables, %5d services, rep %d: %8.0f new connections/s\n' "$n" "$((rep + 1))" "$(jq .rps <<<"$json")" >&2
		done
	done | jq -s '{runs: ., rps_median: (group_by(.services) | map({services: .[0].services,
		rps: (map(.rps) | sort | .[length / 2 | floor])}))}'
}

scale_bpf() {
	local tool=$KN_REPO/bin/kanary_bpf_cost
	[[ -x $tool ]] || { echo "bench: $tool not built (make bin/kanary_bpf_cost)" >&2; return 1; }
	"$tool" --services "$(IFS=,; echo "$*")"
}
