// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Where kanaryd's run files are, and reading its status back. */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "status.h"

const char *kanary_run_dir(void)
{
	const char *env = getenv(KANARY_RUN_DIR_ENV);

	return env && *env ? env : KANARY_RUN_DIR_DEFAULT;
}

/* The same pin path spelled differently ("dir/", a symlink) names the same files. */
static unsigned long long pin_hash(const char *pin)
{
	char real[PATH_MAX];
	unsigned long long h = 14695981039346656037ull;
	size_t n;

	if (!realpath(pin, real))
		snprintf(real, sizeof(real), "%s", pin);
	n = strlen(real);
	while (n > 1 && real[n - 1] == '/')
		n--;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)real[i]) * 1099511628211ull;
	return h;
}

int kanary_run_file(const char *pin_path, const char *suffix, char *buf, size_t len,
		    struct kanary_err *e)
{
	int n = snprintf(buf, len, "%s/%016llx.%s", kanary_run_dir(), pin_hash(pin_path), suffix);

	if (n < 0 || (size_t)n >= len)
		return kanary_errf(e, ENAMETOOLONG, "run directory '%s' is too long", kanary_run_dir());
	return 0;
}

/* Alive and still kanaryd (not a recycled pid). */
static bool kanaryd_alive(json_int_t pid)
{
	char path[64], comm[64] = "";
	FILE *f;

	if (pid <= 0 || pid > INT_MAX || (kill((pid_t)pid, 0) && errno != EPERM))
		return false;
	snprintf(path, sizeof(path), "/proc/%lld/comm", (long long)pid);
	f = fopen(path, "r");
	if (!f)
		return false;
	if (!fgets(comm, sizeof(comm), f))
		comm[0] = '\0';
	fclose(f);
	comm[strcspn(comm, "\n")] = '\0';
	return strcmp(comm, "kanaryd") == 0;
}

int kanary_status_read(const char *pin_path, json_t **out, struct kanary_err *e)
{
	char path[PATH_MAX];
	json_error_t jerr;
	json_t *st;
	int err;

	err = kanary_run_file(pin_path, "status.json", path, sizeof(path), e);
	if (err)
		return err;
	st = json_load_file(path, 0, &jerr);
	if (!st) {
		if (access(path, F_OK))
			return kanary_errf(e, ENOENT,
					   "no kanaryd status for pin path %s (no %s): kanaryd has not run "
					   "for it, or ran with another %s", pin_path, path,
					   KANARY_RUN_DIR_ENV);
		return kanary_errf(e, EINVAL, "cannot read %s: line %d: %s", path, jerr.line, jerr.text);
	}
	if (!json_is_object(st)) {
		json_decref(st);
		return kanary_errf(e, EINVAL, "%s is not a kanaryd status object", path);
	}
	json_object_set_new(st, "running",
			    json_boolean(kanaryd_alive(json_integer_value(json_object_get(st, "pid")))));
	json_object_set_new(st, "status_file", json_string(path));
	*out = st;
	return 0;
}

static const char *str(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "-";
}

void kanary_status_print(FILE *f, const json_t *st)
{
	const json_t *files = json_object_get(st, "files"), *svcs = json_object_get(st, "services");
	const json_t *probs = json_object_get(st, "problems"), *x;
	size_t i;

	const json_t *ifs = json_object_get(st, "interfaces");

	fprintf(f, "kanaryd pid %lld (%s), started %s, last change %s\n",
		(long long)json_integer_value(json_object_get(st, "pid")),
		json_is_true(json_object_get(st, "running")) ? "running" : "NOT RUNNING",
		str(st, "started"), str(st, "updated"));
	const json_t *kube = json_object_get(st, "kube");

	if (json_is_object(kube))
		fprintf(f, "source: Kubernetes API %s (%s)", str(kube, "server"), str(kube, "credentials"));
	else
		fprintf(f, "manifests: %s", str(st, "manifests"));
	fprintf(f, "%s\n",
		json_is_false(json_object_get(st, "applied")) ? " (NOT APPLIED: see problems)" : "");
	fprintf(f, "interfaces:");
	json_array_foreach(json_object_get(ifs, "attached"), i, x)
		fprintf(f, " %s", json_string_value(x) ? json_string_value(x) : "?");
	fprintf(f, "%s\n", json_array_size(json_object_get(ifs, "attached")) ? "" : " none attached by kanaryd");
	json_array_foreach(files, i, x)
		fprintf(f, "  %-40s %s%s%s\n", str(x, "path"), str(x, "state"),
			json_string_value(json_object_get(x, "error")) ? ": " : "",
			json_string_value(json_object_get(x, "error")) ? str(x, "error") : "");
	fprintf(f, "services:\n");
	json_array_foreach(svcs, i, x)
		fprintf(f, "  %-32s %-21s %-10s %s\n", str(x, "name"), str(x, "address"),
			str(x, "state"), json_string_value(json_object_get(x, "summary")) ?
			str(x, "summary") : "");
	if (json_array_size(probs))
		fprintf(f, "problems:\n");
	json_array_foreach(probs, i, x)
		fprintf(f, "  %s: %s\n", str(x, "level"), str(x, "message"));
}
