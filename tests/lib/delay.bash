# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# shellcheck shell=bash
#
# A pod one hop away, as across nodes: this kernel has no netem, so every
# packet a pod sends on eth0 goes through an iptables NFQUEUE to
# bin/delayline (tests/lib/delayline.c), which accepts it USEC after it
# arrived.  Only the pod's own netns is touched.  Without a listener an
# NFQUEUE drops, so the rule goes in after the delay line is ready and out
# before it stops.  Sourced after cluster.sh (needs ns_of, in_ns, nginx_dir).

: "${KN_DELAYLINE:=$KN_REPO/bin/delayline}"
DELAY_MARK=kanary-delayline

# The queue of a pod: queues are per netns, this also keeps them unique
# across the run's pods.
delay_queue() {
	local i
	i=$(pod_index "$1") || return 1
	echo $((100 + i))
}

# The iptables rule, as arguments after -A/-C/-D OUTPUT.
_delay_rule() {
	echo "-o eth0 -m comment --comment $DELAY_MARK -j NFQUEUE --queue-num $1"
}

# delay_pod POD USEC: starts the delay line on POD's outgoing packets; fails
# and says why when it cannot.  undelay_pod (or cluster_down) removes it.
delay_pod() {
	local pod=$1 usec=$2 dir q pid
	[[ $usec =~ ^[0-9]+$ ]] || { echo "delay_pod: delay must be microseconds, got '$usec'" >&2; return 1; }
	[[ -x $KN_DELAYLINE ]] || { echo "delay_pod: $KN_DELAYLINE not built (run 'make')" >&2; return 1; }
	command -v iptables >/dev/null || { echo "delay_pod: iptables is not installed (run 'make deps')" >&2; return 1; }
	q=$(delay_queue "$pod") || return 1
	dir=$(nginx_dir "$pod")
	[[ -e $dir/delay.pid ]] && { echo "delay_pod: $pod is already delayed (pid $(cat "$dir/delay.pid"))" >&2; return 1; }
	# The last run's log says "ready" until the new one truncates it, which
	# the loop below may beat: it must find only this run's words.
	rm -f "$dir/delay.log"
	# Not through in_ns: $! must be the delay line (ip netns exec execs it).
	ip netns exec "$(ns_of "$pod")" "$KN_DELAYLINE" "$q" "$usec" </dev/null >"$dir/delay.log" 2>&1 3>&- &
	pid=$!
	echo "$pid" >"$dir/delay.pid"
	local t0=$EPOCHREALTIME state=running
	for _ in $(seq 100); do
		grep -qs ready "$dir/delay.log" && break
		pid_running "$pid" || { state="not running"; break; }
		sleep 0.1
	done
	if ! grep -qs ready "$dir/delay.log"; then
		echo "delay_pod: the delay line for $pod (queue $q, $usec us, pid $pid, $state) was not ready after $(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }') s:" >&2
		cat "$dir/delay.log" >&2
		undelay_pod "$pod" >/dev/null 2>&1
		return 1
	fi
	# shellcheck disable=SC2046 # the rule's words
	if ! in_ns "$pod" iptables -w -A OUTPUT $(_delay_rule "$q"); then
		echo "delay_pod: iptables NFQUEUE rule in $pod failed (the kernel needs nft-compat xt_NFQUEUE)" >&2
		undelay_pod "$pod" >/dev/null 2>&1
		return 1
	fi
}

# undelay_pod POD: removes the rule, then stops the delay line (SIGTERM:
# it releases what it holds).  Fails when the delay line had died while
# it was in use (then the pod's packets were dropped), or does not stop.
undelay_pod() {
	local pod=$1 dir q pid rc=0
	dir=$(nginx_dir "$pod")
	q=$(delay_queue "$pod") || return 1
	# shellcheck disable=SC2046 # the rule's words
	while in_ns "$pod" iptables -w -C OUTPUT $(_delay_rule "$q") 2>/dev/null; do
		in_ns "$pod" iptables -w -D OUTPUT $(_delay_rule "$q") || { rc=1; break; }
	done
	[[ -e $dir/delay.pid ]] || return "$rc"
	pid=$(cat "$dir/delay.pid")
	if ! pid_running "$pid"; then
		echo "undelay_pod: the delay line of $pod (pid $pid) had died:" >&2
		cat "$dir/delay.log" >&2
		rc=1
	else
		kill -TERM "$pid"
		for _ in $(seq 50); do
			pid_running "$pid" || break
			sleep 0.1
		done
		if pid_running "$pid"; then
			echo "undelay_pod: the delay line of $pod (pid $pid) ignored SIGTERM; killed" >&2
			kill -KILL "$pid"
			rc=1
		fi
	fi
	wait "$pid" 2>/dev/null
	rm -f "$dir/delay.pid"
	return "$rc"
}

# delay_servers USEC: every server pod behind the delay line.
delay_servers() {
	local pod
	for pod in "${KN_SERVER_PODS[@]}"; do
		delay_pod "$pod" "$1" || return 1
	done
}

# undelay_all: removes every delay line this run started (for teardown).
undelay_all() {
	local f rc=0
	for f in "${KN_TMP:-/nonexistent}"/pods/*/delay.pid; do
		[[ -e $f ]] || continue
		undelay_pod "$(basename "$(dirname "$f")")" || rc=1
	done
	return "$rc"
}

# connect_rtt_us POD [N]: the least of N (default 10) TCP connect times
# from the client to POD's nginx, in microseconds (curl's time_connect:
# SYN to SYN-ACK, plus curl's own overhead).
connect_rtt_us() {
	local n=${2:-10} url t times=()
	url="http://$(pod_ip "$1")/"
	for _ in $(seq "$n"); do
		t=$(in_ns client curl -sS -o /dev/null --max-time 5 -w '%{time_connect}' "$url") ||
			{ echo "connect_rtt_us: curl $url failed" >&2; return 1; }
		times+=("$t")
	done
	printf '%s\n' "${times[@]}" | sort -g | awk 'NR == 1 { printf "%d\n", $1 * 1e6 }'
}

# retrans_segs POD: TCP segments the pod's netns retransmitted (nstat).
retrans_segs() {
	in_ns "$1" nstat -saz TcpRetransSegs | awk '$1 == "TcpRetransSegs" { print $2; f = 1 } END { if (!f) exit 1 }'
}
