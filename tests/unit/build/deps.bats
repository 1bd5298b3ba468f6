#!/usr/bin/env bats
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Every Makefile target with a recipe waits for the deps step, so a fresh
# clone builds in any order and with -j (tests/unit/build/deps-edges.py).
# make fresh-check runs the README's commands on a fresh root; this checks
# every rule, where a serial build only meets the first one unready.

setup() {
	cd "$BATS_TEST_DIRNAME/../../.." || return 1
}

@test "every target with a recipe depends on the deps step" {
	run tests/unit/build/deps-edges.py
	echo "$output"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
}

@test "a rule without the deps step is named" {
	bad="$BATS_TEST_TMPDIR/Makefile"
	# shellcheck disable=SC2016 # make's $(...), not the shell's
	sed 's#^\(\$(BIN)/delayline: .*\) | \$(BIN) \$(DEPS_STAMP)$#\1 | $(BIN)#' Makefile >"$bad"
	if cmp -s Makefile "$bad"; then
		echo "the edit changed nothing: the delayline rule has moved on" >&2
		return 1
	fi
	run tests/unit/build/deps-edges.py "$bad"
	echo "$output"
	[ "$status" -eq 1 ]
	[ "$output" = bin/delayline ]
}
