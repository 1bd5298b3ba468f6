#!/usr/bin/env bats
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# 100 MB through the VIP arrives intact, with the default checksum offloads
# (CHECKSUM_PARTIAL on the veths) and with tx offload off in every pod, where
# the receivers verify full checksums: only then does a wrong checksum
# update show, as TcpInCsumErrors.

source "$BATS_TEST_DIRNAME/../../lib/e2e.bash"

setup_file() { e2e_setup_file; }
teardown_file() { e2e_teardown_file; }

# Three downloads (each a new connection, so likely more than one backend);
# checks the sha256 of each, that kanary carried the bytes, and that no
# netns counted a bad TCP checksum.
download_through_vip() {
	local pod i sum bytes0 bytes1
	declare -A csum0
	for pod in client "${KN_SERVER_PODS[@]}"; do csum0[$pod]=$(csum_errors "$pod"); done
	bytes0=$(service_stat_sum greeting bytes_out)

	for i in 1 2 3; do
		sum=$(in_ns client curl -sS --fail --max-time 60 -H 'Connection: close' "${KN_VIP_URL}big" | sha256sum | cut -d' ' -f1)
		expect_eq "$sum" "$KN_BIG_SHA" "sha256 of /big, download $i"
	done
	sum=$(in_ns client curl -sS --fail --max-time 10 "${KN_VIP_URL}small.txt" | sha256sum | cut -d' ' -f1)
	expect_eq "$sum" "$KN_SMALL_SHA" "sha256 of /small.txt"

	bytes1=$(service_stat_sum greeting bytes_out)
	expect_between "$((bytes1 - bytes0))" $((3 * 100 * 1024 * 1024)) 1e12 "bytes kanary counted from the backends"

	for pod in client "${KN_SERVER_PODS[@]}"; do
		expect_eq "$(csum_errors "$pod")" "${csum0[$pod]}" "TcpInCsumErrors in $pod"
	done
}

@test "100 MB download through the VIP with default offloads" {
	[[ -n $KN_BIG_SHA ]]
	download_through_vip
}

@test "100 MB download through the VIP with tx checksum offload off in every pod" {
	cluster_tx_offload off
	local pod
	for pod in client "${KN_SERVER_PODS[@]}"; do
		expect_eq "$(in_ns "$pod" ethtool -k eth0 | awk '$1 == "tx-checksumming:" { print $2 }')" off "tx-checksumming in $pod"
	done
	download_through_vip
}
