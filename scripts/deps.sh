#!/bin/sh
# Installs the Debian packages kanary needs to build, test, demo and bench,
# only those that are missing, so a fresh Debian 12 needs no manual step.
set -eu
PKGS="gcc clang llvm libbpf-dev libelf-dev zlib1g-dev libjansson-dev libhttp-parser-dev bpftool pkg-config check
      libyaml-dev libcurl4-openssl-dev libmicrohttpd-dev libclang-rt-14-dev bats jq iproute2 ethtool nginx-light curl wrk coreutils procps
      python3 python3-yaml openssl haproxy iptables nftables libnetfilter-queue-dev gnuplot-nox nghttp2-client
      mmdebstrap podman prometheus hping3"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "deps: missing packages:$missing; run 'make deps' as root" >&2
	exit 1
fi
echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends $missing
