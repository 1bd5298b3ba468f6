# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# shellcheck shell=bash
# HAProxy in the node netns on its own address: weighted servers 40/40/20
# with balance random, an ACL on X-My-Header for the dark route, one
# thread per core, keep-alive to the servers (http-reuse safe, the default).
# A second frontend (haproxy_hdr) routes by the header alone: plain to the
# safe pods, dark to risky1, as kanary_hdr does.

haproxy_unavailable() {
	command -v haproxy >/dev/null || echo "haproxy not installed (apt-get install haproxy)"
}

haproxy_dir() { echo "$KN_TMP/bench/haproxy"; }

haproxy_up() {
	local d vip=${CONTENDER_VIP[haproxy]} hdr=${CONTENDER_VIP[haproxy_hdr]}
	d=$(haproxy_dir)
	mkdir -p "$d" || return 1
	cat >"$d/haproxy.cfg" <<EOF2
global
	maxconn 8000
	nbthread $(nproc)
	pidfile $d/haproxy.pid
	daemon
defaults
	mode http
	timeout connect 2s
	timeout client 10s
	timeout server 10s
	# Keep-alive to the servers (the default, said here): idle server
	# connections are reused by later requests, of any client connection.
	option http-keep-alive
	http-reuse safe
frontend bench
	bind $vip:80 backlog 8192
	acl dark req.hdr(x-my-header) -m str dark
	use_backend risky if dark
	default_backend split
backend split
	balance random
	server safe1 $(pod_ip safe1):80 weight 40
	server safe2 $(pod_ip safe2):80 weight 40
	server risky1 $(pod_ip risky1):80 weight 20
backend risky
	server risky1 $(pod_ip risky1):80
frontend bench_hdr
	bind $hdr:80 backlog 8192
	acl dark req.hdr(x-my-header) -m str dark
	use_backend risky if dark
	default_backend safe
backend safe
	balance random
	server safe1 $(pod_ip safe1):80
	server safe2 $(pod_ip safe2):80
EOF2
	in_ns node ip addr add "$vip/32" dev lo || return 1
	in_ns node ip addr add "$hdr/32" dev lo || return 1
	in_ns node haproxy -f "$d/haproxy.cfg" </dev/null >"$d/start.log" 2>&1 || {
		echo "bench: haproxy did not start:" >&2
		cat "$d/start.log" >&2
		return 1
	}
}

haproxy_down() {
	local pid
	pid=$(cat "$(haproxy_dir)/haproxy.pid" 2>/dev/null) || return 0
	kill -TERM "$pid" 2>/dev/null || true
}

haproxy_url() { echo "http://${CONTENDER_VIP[haproxy]}/"; }
