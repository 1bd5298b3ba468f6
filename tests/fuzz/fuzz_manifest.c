// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * libFuzzer target: any bytes as a manifest file, decoded and turned into a
 * desired state, as kanaryd does with every file it reads.  Seeds:
 * tests/unit/kanaryd/fixtures (with fixtures/bombs: aliases, depth, a cycle,
 * a key twice; libFuzzer reads seed folders recursively) and examples.
 */
#include <stddef.h>
#include <stdint.h>
#include "desired/desired.h"
#include "decode/manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kd_objects objs = { 0 };
	struct kd_objects *sets[1] = { &objs };
	struct kd_diags diags = { 0 };
	struct kd_desired want;

	kd_manifest_decode("fuzz.yaml", data, size, &objs, &diags);
	kd_desired_build(sets, 1, NULL, &want, &diags);
	kd_desired_free(&want);
	kd_objects_free(&objs);
	kd_diags_free(&diags);
	return 0;
}
