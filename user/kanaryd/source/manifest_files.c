// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "base/arena.h"
#include "decode/manifest.h"
#include "source/manifest_files.h"

void kd_sources_init(struct kd_sources *s, const char *root)
{
	memset(s, 0, sizeof(*s));
	s->root = kd_xstrdup(root);
}

static bool wanted_name(const char *name)
{
	static const char *const exts[] = { ".yaml", ".yml", ".json" };
	size_t n = strlen(name);

	if (name[0] == '.')	/* editors' swap files, ConfigMap's ..data */
		return false;
	for (size_t i = 0; i < 3; i++) {
		size_t e = strlen(exts[i]);

		if (n > e && strcmp(name + n - e, exts[i]) == 0)
			return true;
	}
	return false;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The file paths PATH stands for, sorted; -errno when PATH cannot be read. */
static int list_paths(const char *root, char ***out, size_t *n, char *err, size_t errlen)
{
	size_t cap = 0;
	struct dirent *de;
	struct stat st;
	DIR *dir;

	*out = NULL;
	*n = 0;
	if (stat(root, &st)) {
		snprintf(err, errlen, "%s: %s", root, strerror(errno));
		return -errno;
	}
	if (!S_ISDIR(st.st_mode)) {
		KD_PUSH(*out, *n, cap, kd_xstrdup(root));
		return 0;
	}
	dir = opendir(root);
	if (!dir) {
		snprintf(err, errlen, "%s: %s", root, strerror(errno));
		return -errno;
	}
	while ((de = readdir(dir))) {
		char path[4096];

		if (!wanted_name(de->d_name))
			continue;
		snprintf(path, sizeof(path), "%s/%s", root, de->d_name);
		if (stat(path, &st) || !S_ISREG(st.st_mode))
			continue;
		KD_PUSH(*out, *n, cap, kd_xstrdup(path));
	}
	closedir(dir);
	if (*n)
		qsort(*out, *n, sizeof(**out), cmp_str);
	return 0;
}

static int read_all(const char *path, char **buf, size_t *len, char *err, size_t errlen)
{
	size_t cap = 0, n = 0;
	char *b = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return -1;
	}
	for (;;) {
		ssize_t r;

		if (n == cap) {
			if (cap >= KD_MANIFEST_MAX_BYTES) {
				snprintf(err, errlen, "%s: larger than %u MiB; not read", path,
					 KD_MANIFEST_MAX_BYTES >> 20);
				free(b);
				close(fd);
				return -1;
			}
			cap = cap ? cap * 2 : 64 * 1024;
			b = kd_xrealloc(b, cap, 1);
		}
		r = read(fd, b + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
			free(b);
			close(fd);
			return -1;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	*buf = b;
	*len = n;
	return 0;
}

static unsigned long long content_hash(const char *b, size_t n)
{
	unsigned long long h = 14695981039346656037ull;

	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)b[i]) * 1099511628211ull;
	return h;
}

static struct kd_source_file *file_get(struct kd_sources *s, const char *path)
{
	struct kd_source_file *f;

	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->v[i].path, path) == 0)
			return &s->v[i];
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 8;
		s->v = kd_xrealloc(s->v, s->cap, sizeof(*s->v));
	}
	f = &s->v[s->n++];
	memset(f, 0, sizeof(*f));
	f->path = kd_xstrdup(path);
	return f;
}

static void file_drop_objects(struct kd_source_file *f)
{
	if (f->good) {
		kd_objects_free(f->good);
		free(f->good);
		f->good = NULL;
	}
}

static void set_error(struct kd_source_file *f, const char *msg)
{
	free(f->error);
	f->error = msg ? kd_xstrdup(msg) : NULL;
}

/* Reads and, when its content changed, decodes one file; true when its objects changed. */
static bool file_load(struct kd_source_file *f, bool force, struct kd_diags *diags)
{
	struct kd_diags mine = { 0 };
	struct kd_objects *objs;
	char err[1024], *buf;
	unsigned long long h;
	size_t len;

	if (read_all(f->path, &buf, &len, err, sizeof(err))) {
		if (!f->error || strcmp(f->error, err) != 0)
			kd_diag_add(diags, KD_ERROR, "%s (the last good version stays applied)", err);
		set_error(f, err);
		kd_diags_free(&f->diags);
		kd_diag_add(&f->diags, KD_ERROR, "%s", err);
		f->has_hash = false;
		return false;
	}
	h = content_hash(buf, len);
	if (f->has_hash && f->hash == h && !force) {
		free(buf);
		return false;
	}
	f->hash = h;
	f->has_hash = true;
	objs = kd_xcalloc(1, sizeof(*objs));
	if (kd_manifest_decode(f->path, buf, len, objs, &mine)) {
		set_error(f, kd_diag_first(&mine, KD_ERROR));
		if (f->good)
			kd_diag_add(&mine, KD_ERROR, "%s: bad; its last good version stays applied", f->path);
		else
			kd_diag_add(&mine, KD_ERROR, "%s: bad, and no good version of it has been seen "
				    "since kanaryd started", f->path);
		kd_objects_free(objs);
		free(objs);
		kd_diags_free(&f->diags);
		kd_diag_copy(&f->diags, &mine, KD_WARN);
		kd_diag_move(diags, &mine);
		free(buf);
		return false;
	}
	free(buf);
	set_error(f, NULL);
	kd_diags_free(&f->diags);
	kd_diag_copy(&f->diags, &mine, KD_WARN);
	kd_diag_move(diags, &mine);
	file_drop_objects(f);
	f->good = objs;
	return true;
}

bool kd_sources_scan(struct kd_sources *s, bool force, struct kd_diags *diags)
{
	char err[1024], **paths;
	bool changed = false;
	size_t n, k = 0;

	if (list_paths(s->root, &paths, &n, err, sizeof(err))) {
		/* Unmounted or mid-replace: keeping everything is safer than deleting it. */
		if (!s->root_error || strcmp(s->root_error, err) != 0)
			kd_diag_add(diags, KD_ERROR, "--manifests %s; everything loaded stays applied", err);
		free(s->root_error);
		s->root_error = kd_xstrdup(err);
		return false;
	}
	free(s->root_error);
	s->root_error = NULL;
	for (size_t i = 0; i < s->n; i++)
		s->v[i].present = false;
	for (size_t i = 0; i < n; i++) {
		struct kd_source_file *f = file_get(s, paths[i]);

		f->present = true;
		changed |= file_load(f, force, diags);
		free(paths[i]);
	}
	free(paths);
	for (size_t i = 0; i < s->n; i++) {
		struct kd_source_file *f = &s->v[i];

		if (f->present) {
			s->v[k++] = *f;
			continue;
		}
		kd_diag_add(diags, KD_INFO, "%s: removed; its objects are gone", f->path);
		changed |= f->good != NULL;
		file_drop_objects(f);
		kd_diags_free(&f->diags);
		free(f->path);
		free(f->error);
	}
	s->n = k;
	if (s->n)
		qsort(s->v, s->n, sizeof(*s->v), cmp_str);	/* path is the first member */
	return changed;
}

struct kd_objects **kd_sources_sets(const struct kd_sources *s, size_t *n)
{
	struct kd_objects **sets = kd_xcalloc(s->n, sizeof(*sets));

	*n = 0;
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].good)
			sets[(*n)++] = s->v[i].good;
	return sets;
}

size_t kd_sources_unknown(const struct kd_sources *s)
{
	size_t n = 0;

	for (size_t i = 0; i < s->n; i++)
		n += s->v[i].error && !s->v[i].good;
	return n;
}

void kd_sources_free(struct kd_sources *s)
{
	for (size_t i = 0; i < s->n; i++) {
		file_drop_objects(&s->v[i]);
		kd_diags_free(&s->v[i].diags);
		free(s->v[i].path);
		free(s->v[i].error);
	}
	free(s->v);
	free(s->root);
	free(s->root_error);
	memset(s, 0, sizeof(*s));
}
