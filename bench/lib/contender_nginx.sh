# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# shellcheck shell=bash
# nginx as the L7 proxy users would run instead, in the node netns on its
# own address: split_clients 80/20 per request, map $http_x_my_header for
# the dark route, keep-alive to the pods, as many workers as cores.  A
# second address (nginx_hdr) routes by the header alone: plain to the safe
# pods, dark to risky1, as kanary_hdr does.  A third (nginx_mirror) splits
# 80/20 and mirrors every request to shadow1 with the mirror directive (a
# subrequest, Host with -shadow as kanary's relay sends it, body
# included), the mirror Debian's packages offer in place of kanary's.

nginx_proxy_dir() { echo "$KN_TMP/bench/nginx"; }

# Upstream keep-alive needs HTTP/1.1 and no "Connection: close" to the pods.
nginx_proxy_keepalive() {
	printf '\t\t\t%s\n' 'proxy_http_version 1.1;' 'proxy_set_header Connection "";' \
		'# Bulk bodies stream through memory, never a temp file.' 'proxy_max_temp_file_size 0;'
}

nginx_up() {
	local d pod vip=${CONTENDER_VIP[nginx]} hdr=${CONTENDER_VIP[nginx_hdr]} mir=${CONTENDER_VIP[nginx_mirror]} safe="" risky=""
	d=$(nginx_proxy_dir)
	mkdir -p "$d/tmp" || return 1
	for pod in "${SPLIT_SAFE[@]}"; do safe+="server $(pod_ip "$pod"):80; "; done
	for pod in "${SPLIT_RISKY[@]}"; do risky+="server $(pod_ip "$pod"):80; "; done
	{
		nginx_conf_head "$d" auto
		cat <<EOF2
	upstream safe { $safe keepalive 64; }
	upstream risky { $risky keepalive 64; }
	upstream shadow { server $(pod_ip shadow1):80; keepalive 64; }
	split_clients "\$request_id" \$split { 80% safe; * risky; }
	map \$http_x_my_header \$pool { dark risky; default \$split; }
	map \$http_x_my_header \$hdr_pool { dark risky; default safe; }
	server {
		listen $vip:80 backlog=8192;
		location / {
			proxy_pass http://\$pool;
$(nginx_proxy_keepalive)
		}
	}
	server {
		listen $hdr:80 backlog=8192;
		location / {
			proxy_pass http://\$hdr_pool;
$(nginx_proxy_keepalive)
		}
	}
	server {
		listen $mir:80 backlog=8192;
		location / {
			mirror /_mirror;
			proxy_pass http://\$split;
$(nginx_proxy_keepalive)
		}
		location = /_mirror {
			internal;
			proxy_pass http://shadow\$request_uri;
			proxy_set_header Host \$host-shadow;
$(nginx_proxy_keepalive)
		}
	}
}
EOF2
	} >"$d/nginx.conf"
	in_ns node ip addr add "$vip/32" dev lo || return 1
	in_ns node ip addr add "$hdr/32" dev lo || return 1
	in_ns node ip addr add "$mir/32" dev lo || return 1
	in_ns node nginx -e "$d/error.log" -p "$d" -c "$d/nginx.conf" </dev/null >"$d/start.log" 2>&1 || {
		echo "bench: the nginx proxy did not start:" >&2
		cat "$d/start.log" "$d/error.log" >&2
		return 1
	}
}

nginx_down() {
	local d pid
	d=$(nginx_proxy_dir)
	pid=$(cat "$d/nginx.pid" 2>/dev/null) || return 0
	kill -TERM "$pid" 2>/dev/null || true
}

nginx_url() { echo "http://${CONTENDER_VIP[nginx]}/"; }
