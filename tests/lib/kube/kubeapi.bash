# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# shellcheck shell=bash
#
# The test API server (tests/lib/kube/apiserver.py) from bash: start it (in a
# network namespace the test made, or on the host's loopback), write a
# kubeconfig for it, feed it objects, and poke its stream controls.
# State: KAPI_DIR (certificate, state, token, kubeconfig), KAPI_PORT, KAPI_PID.
# KAPI_HOST: the address it listens on (default 127.0.0.1); KAPI_NETNS: where.

KAPI_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
KAPI_FIXTURES="$KAPI_LIB_DIR/fixtures"

# kapi_run CMD...: in KAPI_NETNS when set (where the server listens).
kapi_run() {
	if [[ -n ${KAPI_NETNS:-} ]]; then ip netns exec "$KAPI_NETNS" "$@"; else "$@"; fi
}

# kapi_check_env: fails saying what is missing.
kapi_check_env() {
	local c missing=()
	for c in /usr/bin/python3 openssl curl jq; do command -v "$c" >/dev/null || missing+=("$c"); done
	((${#missing[@]} == 0)) || { echo "kapi: missing commands: ${missing[*]}" >&2; return 1; }
}

# kapi_start DIR [SERVER ARGS...]: starts the server (again, on the same port
# and state when DIR already has them) and writes DIR/kubeconfig.
kapi_start() {
	KAPI_DIR=$1
	shift
	mkdir -p "$KAPI_DIR" || return 1
	[[ -s $KAPI_DIR/token ]] || echo "token-$RANDOM$RANDOM" >"$KAPI_DIR/token"
	local port_arg=()
	[[ -n ${KAPI_PORT:-} ]] && port_arg=(--port "$KAPI_PORT")
	rm -f "$KAPI_DIR/port"
	local cmd=(/usr/bin/python3 "$KAPI_LIB_DIR/apiserver.py" --dir "$KAPI_DIR" --port-file "$KAPI_DIR/port"
		--bind "${KAPI_HOST:-127.0.0.1}"
		--token "$(cat "$KAPI_DIR/token")" "${port_arg[@]}" "$@")
	# Not through kapi_run: $! must be the server itself (ip netns exec execs it).
	if [[ -n ${KAPI_NETNS:-} ]]; then
		ip netns exec "$KAPI_NETNS" "${cmd[@]}" 3>&- 2>>"$KAPI_DIR/apiserver.log" &
	else
		"${cmd[@]}" 3>&- 2>>"$KAPI_DIR/apiserver.log" &
	fi
	KAPI_PID=$!
	echo "$KAPI_PID" >"$KAPI_DIR/pid"
	for _ in $(seq 100); do
		[[ -s $KAPI_DIR/port ]] && break
		kill -0 "$KAPI_PID" 2>/dev/null || { echo "kapi: the server exited:" >&2; cat "$KAPI_DIR/apiserver.log" >&2; return 1; }
		sleep 0.1
	done
	[[ -s $KAPI_DIR/port ]] || { echo "kapi: the server did not start listening" >&2; return 1; }
	KAPI_PORT=$(cat "$KAPI_DIR/port")
	KAPI_URL="https://${KAPI_HOST:-127.0.0.1}:$KAPI_PORT"
	export KAPI_DIR KAPI_PORT KAPI_URL KAPI_PID
	cat >"$KAPI_DIR/kubeconfig" <<EOF2
apiVersion: v1
kind: Config
clusters:
- name: test
  cluster:
    server: $KAPI_URL
    certificate-authority: apiserver.crt
users:
- name: kanaryd
  user:
    tokenFile: token
contexts:
- name: test
  context: {cluster: test, user: kanaryd}
current-context: test
EOF2
}

# kapi_stop: stops the server (its state stays in KAPI_DIR for kapi_start).
kapi_stop() {
	local pid
	pid=$(cat "$KAPI_DIR/pid" 2>/dev/null) || return 0
	kill "$pid" 2>/dev/null || true
	for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	kill -9 "$pid" 2>/dev/null || true
	rm -f "$KAPI_DIR/pid"
}

kapi_curl() {
	kapi_run curl -sS --fail-with-body --cacert "$KAPI_DIR/apiserver.crt" "$@"
}

# kapi_put FILE...: adds or replaces objects (JSON files, or - for stdin).
kapi_put() {
	local f
	for f in "$@"; do
		kapi_curl -X POST --data-binary "@$f" "$KAPI_URL/_test/objects" >/dev/null ||
			{ echo "kapi_put $f failed" >&2; return 1; }
	done
}

# kapi_del RESOURCE NAMESPACE NAME
kapi_del() {
	kapi_curl -X DELETE "$KAPI_URL/_test/objects/$1/$2/$3" >/dev/null ||
		{ echo "kapi_del $*: failed" >&2; return 1; }
}

# kapi_ctl expire|close|http410
kapi_ctl() {
	kapi_curl -X POST "$KAPI_URL/_test/$1" >/dev/null || { echo "kapi_ctl $1 failed" >&2; return 1; }
}

# kapi_rotate_token: a new token, for the server and in the token file.
kapi_rotate_token() {
	local t="token-$RANDOM$RANDOM"
	kapi_curl -X POST --data "{\"token\":\"$t\"}" "$KAPI_URL/_test/token" >/dev/null || return 1
	echo "$t" >"$KAPI_DIR/token.new" && mv "$KAPI_DIR/token.new" "$KAPI_DIR/token"
}

# kapi_log: the requests the server saw, as JSON.
kapi_log() { kapi_curl "$KAPI_URL/_test/log"; }

# kapi_wait_watchers RESOURCE N: until N watch streams of RESOURCE are open (10 s).
kapi_wait_watchers() {
	local got
	for _ in $(seq 100); do
		got=$(kapi_curl "$KAPI_URL/_test/watchers" | jq -r --arg r "$1" '.[$r]')
		[[ $got == "$2" ]] && return 0
		sleep 0.1
	done
	echo "kapi: $1 has $got open watches, expected $2" >&2
	return 1
}

# kapi_vs_weights SAFE RISKY: the greeting VirtualService with those weights.
kapi_vs_weights() {
	jq --argjson s "$1" --argjson r "$2" \
		'.spec.http[0].route[0].weight = $s | .spec.http[0].route[1].weight = $r' \
		"$KAPI_FIXTURES/virtualservice-greeting.json" | kapi_put -
}
