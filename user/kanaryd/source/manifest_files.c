// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The files source: list, read, hash and decode the manifest files. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include "base/arena.h"
#include "decode/manifest.h"
#include "decode/yaml_limits.h"
#include "source/manifest_files.h"

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

/* A file PATH stands for, and its stat, taken before it is read. */
struct listed {
	char *path;	/* first: sorted and searched as a string */
	struct stat st;
};

/*
 * The files PATH stands for, sorted; -errno when PATH cannot be read.  The
 * stat that tells a regular file is also the one that tells whether it
 * changed (file_load): one stat per file and scan, relative to the
 * directory, where two full-path ones were a tenth of a pod event's CPU
 * at 1,000 files.
 */
static int list_paths(const char *root, struct listed **out, size_t *n, struct kanary_err *e)
{
	size_t cap = 0;
	struct dirent *de;
	struct listed l;
	DIR *dir;

	*out = NULL;
	*n = 0;
	if (stat(root, &l.st))
		return kanary_errf(e, errno, "%s: %s", root, strerror(errno));
	if (!S_ISDIR(l.st.st_mode)) {
		l.path = kd_xstrdup(root);
		KD_PUSH(*out, *n, cap, l);
		return 0;
	}
	dir = opendir(root);
	if (!dir)
		return kanary_errf(e, errno, "%s: %s", root, strerror(errno));
	while ((de = readdir(dir))) {
		char path[4096];

		if (!wanted_name(de->d_name))
			continue;
		if (fstatat(dirfd(dir), de->d_name, &l.st, 0) || !S_ISREG(l.st.st_mode))
			continue;
		snprintf(path, sizeof(path), "%s/%s", root, de->d_name);
		l.path = kd_xstrdup(path);
		KD_PUSH(*out, *n, cap, l);
	}
	closedir(dir);
	if (*n)
		qsort(*out, *n, sizeof(**out), cmp_str);
	return 0;
}

/*
 * The file's bytes, at most one past the decoder's limit: a huge file costs
 * no more memory than that, and the hash of what was read still tells when
 * a file under the limit changed.
 */
static int read_all(const char *path, char **buf, size_t *len, struct kanary_err *e)
{
	size_t cap = 0, n = 0;
	char *b = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return kanary_errf(e, errno, "%s: cannot open: %s", path, strerror(errno));
	for (;;) {
		ssize_t r;

		if (n == KD_YAML_MAX_BYTES + 1)
			break;	/* the decoder reports where the file goes past its limit */
		if (n == cap) {
			cap = cap ? cap * 2 : 64 * 1024;
			cap = cap > KD_YAML_MAX_BYTES + 1 ? KD_YAML_MAX_BYTES + 1 : cap;
			b = kd_xrealloc(b, cap, 1);
		}
		r = read(fd, b + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int err = errno;

			free(b);
			close(fd);
			return kanary_errf(e, err, "%s: cannot read: %s", path, strerror(err));
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

static unsigned long long ns_of(const struct timespec *t)
{
	return (unsigned long long)t->tv_sec * 1000000000ull + (unsigned long long)t->tv_nsec;
}

/*
 * Whether the file still holds the content last read, by its inode, size
 * and change time, without reading it: re-reading and hashing 1,000 files
 * (25 MB at 100,000 pods) for an event in one of them was a fifth of
 * kanaryd's CPU.  File times are coarse (a clock tick), so two writes
 * within a tick can share a change time: as git does with "racy" files,
 * the identity is trusted only for a file that had not changed for a
 * second when it was read (settled); others are read and hashed again.
 */
static bool same_as_read(const struct kd_store_item *f, const struct stat *st)
{
	return f->has_stat && f->ino == (unsigned long long)st->st_ino &&
	       f->size == (unsigned long long)st->st_size && f->ctime_ns == ns_of(&st->st_ctim);
}

static void remember_stat(struct kd_store_item *f, const struct stat *st)
{
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	f->has_stat = ns_of(&now) > ns_of(&st->st_ctim) + 1000000000ull;	/* settled */
	f->ino = (unsigned long long)st->st_ino;
	f->size = (unsigned long long)st->st_size;
	f->ctime_ns = ns_of(&st->st_ctim);
}

/*
 * Reads and, when its content changed, decodes one file, whose stat st was
 * taken before; true when its objects changed.
 */
static bool file_load(struct kd_store_item *f, const struct stat *st, bool force,
		      struct kd_diags *said)
{
	struct kanary_err e = { "" };
	struct kd_diags mine = { 0 };
	struct kd_objects *objs;
	unsigned long long h;
	size_t len = 0;
	char *buf = NULL;

	if (!force && f->has_hash && same_as_read(f, st))
		return false;
	if (read_all(f->name, &buf, &len, &e)) {
		kd_store_record_unreadable(f, e.msg, said);
		return false;
	}
	h = content_hash(buf, len);
	/* Stat before the read: a write after it changes the change time, and is read next time. */
	remember_stat(f, st);
	if (f->has_hash && f->hash == h && !force) {
		free(buf);
		return false;
	}
	f->hash = h;
	f->has_hash = true;
	objs = kd_xcalloc(1, sizeof(*objs));
	if (kd_manifest_decode(f->name, buf, len, objs, &mine)) {
		kd_objects_free(objs);
		free(objs);
		objs = NULL;
	}
	free(buf);
	return kd_store_record(f, objs, &mine, true, said);
}

/* Files no longer there: their objects are gone. */
static bool drop_removed(struct kd_files *fs, struct listed *paths, size_t n, struct kd_diags *said)
{
	bool changed = false;

	for (size_t i = 0; i < fs->store.n;) {
		struct kd_store_item *f = &fs->store.v[i];

		if (n && bsearch(&f->name, paths, n, sizeof(*paths), cmp_str)) {
			i++;
			continue;
		}
		kd_diag_add(said, KD_INFO, "%s: removed; its objects are gone", f->name);
		changed |= f->good != NULL;
		kd_store_remove(&fs->store, f->name);	/* the next one moves to i */
	}
	return changed;
}

bool kd_files_scan(struct kd_files *fs, bool force, struct kd_diags *said)
{
	struct kanary_err e = { "" };
	bool changed = false;
	struct listed *paths;
	size_t n;

	if (list_paths(fs->root, &paths, &n, &e)) {
		/* Unmounted or mid-replace: keeping everything is safer than deleting it. */
		if (!fs->root_error || strcmp(fs->root_error, e.msg) != 0)
			kd_diag_add(said, KD_ERROR, "--manifests %s; everything loaded stays applied",
				    e.msg);
		free(fs->root_error);
		fs->root_error = kd_xstrdup(e.msg);
		return false;
	}
	free(fs->root_error);
	fs->root_error = NULL;
	for (size_t i = 0; i < n; i++)
		changed |= file_load(kd_store_item(&fs->store, paths[i].path), &paths[i].st, force,
				     said);
	changed |= drop_removed(fs, paths, n, said);
	for (size_t i = 0; i < n; i++)
		free(paths[i].path);
	free(paths);
	return changed;
}

static int files_refresh(struct kd_source *s, bool force, struct kd_refresh *r,
			 struct kd_diags *said, struct kanary_err *e)
{
	(void)e;
	r->changed = kd_files_scan((struct kd_files *)s, force, said);
	r->event_ms = 0;
	return 0;
}

static void files_release(struct kd_source *s)
{
	(void)s;
}

static size_t files_unknown(struct kd_source *s)
{
	return kd_store_unknown(&((struct kd_files *)s)->store);
}

static size_t files_bad(struct kd_source *s)
{
	struct kd_files *fs = (struct kd_files *)s;

	return kd_store_bad(&fs->store) + (fs->root_error != NULL);
}

static struct kd_objects **files_good_sets(struct kd_source *s, size_t *n)
{
	struct kd_objects **sets = NULL;
	size_t cap = 0;

	*n = 0;
	kd_store_sets(&((struct kd_files *)s)->store, &sets, n, &cap);
	return sets;
}

static const struct kd_source_ops files_ops = {
	.item = "manifest file",
	.refresh = files_refresh,
	.release = files_release,
	.unknown = files_unknown,
	.bad = files_bad,
	.good_sets = files_good_sets,
};

void kd_files_init(struct kd_files *fs, const char *root)
{
	memset(fs, 0, sizeof(*fs));
	fs->source.ops = &files_ops;
	fs->root = kd_xstrdup(root);
}

void kd_files_free(struct kd_files *fs)
{
	kd_store_free(&fs->store);
	free(fs->root);
	free(fs->root_error);
	memset(fs, 0, sizeof(*fs));
}
