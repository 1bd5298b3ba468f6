#!/usr/bin/env bats
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Runs last (bats sorts files): the files before it cleaned up after
# themselves.  Their owners (bats' per-file processes) have exited, so any
# kn<pid>-* netns, /tmp/kanary-kn* dir, bpffs mount or nginx of a dead
# owner is a leak.  Live owners (a concurrent run) are left alone.

@test "no namespace, bpffs mount, nginx or temp dir left by finished runs" {
	local leaks=() ns owner dir
	for ns in $(ip netns list | awk '{print $1}' | grep -E '^kn[0-9]+-'); do
		owner=${ns%%-*}
		kill -0 "${owner#kn}" 2>/dev/null || leaks+=("netns $ns")
	done
	for dir in /tmp/kanary-kn*; do
		[[ -e $dir ]] || continue
		owner=$(cat "$dir/owner" 2>/dev/null)
		[[ -n $owner ]] && kill -0 "$owner" 2>/dev/null && continue
		leaks+=("dir $dir")
		mount | awk -v d="$dir/" 'index($3, d) == 1' | grep -q . && leaks+=("bpffs mount in $dir")
		pgrep -f -- "-c $dir/" >/dev/null && leaks+=("nginx of $dir")
	done
	if ((${#leaks[@]})); then
		printf 'leak: %s\n' "${leaks[@]}" >&2
		false
	fi
}
