# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# shellcheck shell=bash
#
# One nginx per server pod, with everything it writes (pid, logs, temp
# files, the status socket) under the run's temp dir, never /var or /run.
# Sourced by cluster.sh; uses its KN_TMP, pod_ip and in_ns.

nginx_dir() { echo "$KN_TMP/pods/$1"; }

# nginx_conf_head DIR WORKERS: the start of an nginx.conf whose every file
# (pid, logs, temp dirs) lives in DIR, up to inside the http block.
nginx_conf_head() {
	cat <<EOF
worker_processes $2;
daemon on;
pid $1/nginx.pid;
error_log $1/error.log warn;
worker_rlimit_nofile 65536;
events { worker_connections 16384; }
http {
	access_log off;
	client_body_temp_path $1/tmp/body;
	proxy_temp_path $1/tmp/proxy;
	fastcgi_temp_path $1/tmp/fastcgi;
	uwsgi_temp_path $1/tmp/uwsgi;
	scgi_temp_path $1/tmp/scgi;
	keepalive_requests 10000000;
EOF
}

# GET / answers the pod's name (so a client learns who served it), /big and
# /small.txt are static files; stub_status listens on a unix socket so that
# reading the counters needs no netns and sends nothing over the veths.
# A test adds to the pod's server (locations, keepalive_timeout) with
# files DIR/server.d/*.conf and nginx_reload; there are none by default.
nginx_conf_write() {
	local pod=$1 dir
	dir=$(nginx_dir "$pod")
	mkdir -p "$dir/tmp" "$dir/server.d" || return 1
	{
		nginx_conf_head "$dir" 1
		cat <<EOF
	sendfile on;
	default_type application/octet-stream;
	server {
		listen $(pod_ip "$pod"):80 backlog=8192;
		root $KN_TMP/www;
		location = / { default_type text/plain; return 200 "$pod\n"; }
		# Which pod, and the dark-release header it got: pairs an answer with its request.
		location = /echo { default_type text/plain; return 200 "$pod \$http_x_my_header\n"; }
		location = /big { }
		location = /small.txt { }
		include $dir/server.d/*.conf;
	}
	server {
		listen unix:$dir/status.sock;
		location = /status { stub_status; }
	}
}
EOF
	} >"$dir/nginx.conf"
}

nginx_start() {
	local pod=$1 dir
	dir=$(nginx_dir "$pod")
	nginx_conf_write "$pod" || return 1
	# A killed nginx leaves its status socket, which would block the bind.
	rm -f "$dir/status.sock"
	# 3>&- : bats waits on fd 3; a daemon holding it would hang the run.
	if ! in_ns "$pod" nginx -e "$dir/error.log" -p "$dir" -c "$dir/nginx.conf" </dev/null >"$dir/start.log" 2>&1 3>&-; then
		echo "nginx_start: nginx in $pod failed to start:" >&2
		cat "$dir/start.log" "$dir/error.log" >&2 2>/dev/null
		return 1
	fi
}

# nginx_reload POD: the pod's nginx rereads its configuration.  Returns
# once the master has started new workers (the old ones finish what they
# serve), so a new connection gets the new configuration.
nginx_reload() {
	local dir master before
	dir=$(nginx_dir "$1")
	master=$(cat "$dir/nginx.pid") || return 1
	before=$(pgrep -P "$master" | sort)
	in_ns "$1" nginx -e "$dir/error.log" -p "$dir" -c "$dir/nginx.conf" -s reload || return 1
	for _ in $(seq 50); do
		[[ -n $(comm -13 <(echo "$before") <(pgrep -P "$master" | sort)) ]] && return 0
		sleep 0.1
	done
	echo "nginx_reload: nginx $master in $1 started no new worker:" >&2
	tail -5 "$dir/error.log" >&2
	return 1
}

# A zombie counts as gone: here pid 1 may take seconds to reap a daemon.
pid_running() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	[[ ${stat%% *} != Z ]]
}

# Stops the pod's nginx by the pid in its pidfile; no-op when not running.
nginx_stop() {
	local -
	set +e
	local pid dir
	dir=$(nginx_dir "$1")
	[[ -f $dir/nginx.pid ]] || return 0
	pid=$(cat "$dir/nginx.pid" 2>/dev/null) || return 0
	[[ $pid =~ ^[0-9]+$ ]] || return 0
	kill -TERM "$pid" 2>/dev/null || return 0
	for _ in $(seq 50); do
		pid_running "$pid" || return 0
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	return 0
}

# Connections this pod's nginx has accepted so far, from its own stub_status.
# Reading it opens one connection, counted in the value it returns: between
# two reads, others opened (second - first - 1).
pod_accepts() {
	local out
	out=$(curl -s --max-time 5 --unix-socket "$(nginx_dir "$1")/status.sock" http://status/status) || {
		echo "pod_accepts: cannot read stub_status of $1" >&2
		return 1
	}
	# Third line: " accepts handled requests"
	awk 'NR == 3 { print $1; f = 1 } END { if (!f) exit 1 }' <<<"$out"
}
