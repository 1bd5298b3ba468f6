# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# shellcheck shell=bash
#
# Traffic from the client pod, always to the VIP or to a pod address inside
# the cluster's namespaces, always bounded in count and time.
# Sourced after cluster.sh.

# new_conns URL N [PARALLEL [CURL_ARG...]]: N requests, each on its own
# connection (Connection: close, and the extra curl arguments: a header, a
# body), PARALLEL at a time; prints every response body, one per line (each
# server answers its name).  Fails if any transfer failed: no retries.
new_conns() {
	local url=$1 n=$2 par=${3:-32}
	shift $(($# < 3 ? $# : 3))
	[[ $n =~ ^[1-9][0-9]*$ ]] || { echo "new_conns: count must be a positive integer, got '$n'" >&2; return 1; }
	# The glob makes curl run N transfers; the query string is ignored by nginx.
	timeout --foreground $((30 + n / 20)) ip netns exec "$(ns_of client)" \
		curl --no-progress-meter --fail -Z --parallel-max "$par" --max-time 10 \
		-H 'Connection: close' "$@" "$url?n=[1-$n]"
}

# wrk_run URL SECONDS CONNECTIONS keepalive|close [OUTFILE [WRK_ARG...]]:
# wrk from the client with tests/lib/wrk-report.lua (and the extra wrk
# arguments, e.g. a header); prints the WRK_JSON object.  wrk's whole output
# goes to OUTFILE when not empty.  Exports WRK_EXPECT to check bodies.
wrk_run() {
	local url=$1 secs=$2 conns=$3 mode=$4 out=${5:-} hdr=() text
	case $mode in
	keepalive) ;;
	close) hdr=(-H 'Connection: close') ;;
	*) echo "wrk_run: mode must be keepalive or close, got '$mode'" >&2; return 1 ;;
	esac
	shift $(($# < 5 ? $# : 5))
	text=$(timeout --foreground $((secs + 30)) ip netns exec "$(ns_of client)" \
		wrk -t 2 -c "$conns" -d "${secs}s" --timeout 2s "${hdr[@]}" "$@" \
		-s "$KN_LIB_DIR/wrk-report.lua" "$url" 2>&1)
	local rc=$?
	[[ -n $out ]] && printf '%s\n' "$text" >"$out"
	if ((rc != 0)) || ! grep -q '^WRK_JSON ' <<<"$text"; then
		if ((rc == 124)); then
			# wrk first probes the URL with a blocking connect(): a SYN
			# never answered hangs it there (and its output is lost).
			echo "wrk_run: wrk to $url did not finish within $((secs + 30)) s (killed)" >&2
		fi
		echo "wrk_run: wrk failed (exit $rc):" >&2
		printf '%s\n' "$text" >&2
		return 1
	fi
	sed -n 's/^WRK_JSON //p' <<<"$text"
}

# count_lines FILE WORD: lines of FILE that are exactly WORD.
count_lines() {
	grep -cxF -- "$2" "$1" || true
}
