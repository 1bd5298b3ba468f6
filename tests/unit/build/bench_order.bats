#!/usr/bin/env bats
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# The order the bench runs its contenders in (rotated, bench/lib/phases.sh):
# every repetition runs each contender once, and over a pair of repetitions
# each contender runs just after every neighbour as often as just before
# it, so no contender always inherits the same one's aftermath.

setup() {
	cd "$BATS_TEST_DIRNAME/../../.." || return 1
	# shellcheck source=/dev/null
	source bench/lib/phases.sh
}

# follows REP LIST...: "A>B" for each B run just after A in repetition REP.
follows() {
	local rep=$1 prev='' c
	shift
	for c in $(rotated "$rep" "$@"); do
		[[ -n $prev ]] && echo "$prev>$c"
		prev=$c
	done
}

@test "each repetition runs every contender once" {
	local rep
	for rep in $(seq 1 16); do
		run rotated "$rep" a b c d e
		[ "$(sort <<<"$output" | tr '\n' ' ')" = "a b c d e " ] || { echo "rep $rep: $output"; false; }
	done
}

@test "over each pair of repetitions, every neighbour runs as often before a contender as after it" {
	local k pairs
	for k in 0 1 2 3 4 5 6 7; do
		pairs=$( { follows $((2 * k + 1)) a b c d e f g; follows $((2 * k + 2)) a b c d e f g; } | sort)
		# A>B and B>A both present, for every adjacent pair: reversing them
		# gives the same list back.
		[ "$(sed 's/\(.*\)>\(.*\)/\2>\1/' <<<"$pairs" | sort)" = "$pairs" ] || { echo "pair $k: $pairs"; false; }
	done
}

@test "each contender is first in some repetitions and last in others" {
	local c rep firsts='' lasts=''
	for rep in $(seq 1 14); do
		firsts+=" $(rotated "$rep" a b c d e f g | head -1)"
		lasts+=" $(rotated "$rep" a b c d e f g | tail -1)"
	done
	for c in a b c d e f g; do
		[[ $firsts == *" $c"* && $lasts == *" $c"* ]] || { echo "$c: first in$firsts; last in$lasts"; false; }
	done
}

@test "two contenders alternate which goes first (the accounting's pairs)" {
	run bash -c 'source bench/lib/phases.sh; for r in 1 2 3 4 5 6; do rotated $r on off | head -1; done | tr "\n" " "'
	[ "$output" = "on off on off on off " ]
}
