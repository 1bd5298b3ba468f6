// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The sockops program's attachment (TCP health, include/kanary/tcp_stats.h):
 * one bpf_link on a cgroup v2 directory, by default the hierarchy's root,
 * pinned as <pin>/link_sockops.  The pin is what holds it, so removing the
 * pin (unload, or a bpffs going away) detaches it; a load with the pin
 * present moves the link to the new program in place.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <bpf/bpf.h>
#include "internal.h"
#include "kanary/tcp_stats.h"

#define NO_CGROUP_HINT \
	"name a cgroup v2 directory (kanaryctl load cgroup DIR, kanaryd --cgroup DIR), " \
	"or load without TCP health (cgroup none)"

/* Only the root lacks cgroup.events, whatever cgroup namespace shows it as "/". */
static bool is_cgroup_root(int dirfd)
{
	return faccessat(dirfd, "cgroup.events", F_OK, 0) && errno == ENOENT;
}

/* Undoes mountinfo's octal escapes (\040 for a space) in place. */
static void unescape(char *s)
{
	char *o = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*o++ = (char)((s[1] - '0') << 6 | (s[2] - '0') << 3 | (s[3] - '0'));
			s += 3;
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
}

/*
 * The first cgroup2 mount of this mount namespace that shows the root of
 * the hierarchy, opened, its mount point in path; -ENOENT when there is none.
 * A line: ID PARENT MAJ:MIN ROOT MOUNT_POINT OPTIONS [TAG:VALUE...] - TYPE ...;
 * paths have their spaces escaped, so " - " is only ever the separator.
 */
static int root_from_mountinfo(char *path, size_t len)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char *line = NULL;
	size_t cap = 0;
	int fd = -ENOENT;

	if (!f)
		return -errno;
	while (fd < 0 && getline(&line, &cap, f) > 0) {
		char *sep = strstr(line, " - "), *field[5], *save = NULL, *tok;
		int n = 0;

		if (!sep || strncmp(sep + 3, "cgroup2 ", 8))
			continue;
		*sep = '\0';
		for (tok = strtok_r(line, " ", &save); tok && n < 5; tok = strtok_r(NULL, " ", &save))
			field[n++] = tok;
		if (n < 5 || strcmp(field[3], "/"))
			continue;
		unescape(field[4]);
		fd = open(field[4], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0) {
			fd = -ENOENT;
		} else if (!is_cgroup_root(fd)) {
			close(fd);
			fd = -ENOENT;
		} else {
			snprintf(path, len, "%s", field[4]);
		}
	}
	free(line);
	fclose(f);
	return fd;
}

/*
 * No cgroup2 in sight (`ip netns exec` remounts /sys, hiding it): a mount
 * of our own, let go as soon as it is open.  Needs CAP_SYS_ADMIN.
 */
static int root_from_own_mount(char *path, size_t len)
{
	char dir[] = "/tmp/kanary-cgroup2.XXXXXX";
	int fd, err = 0;

	if (!mkdtemp(dir))
		return -errno;
	if (mount("cgroup2", dir, "cgroup2", 0, NULL)) {
		err = -errno;
		rmdir(dir);
		return err;
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		err = -errno;
	umount2(dir, MNT_DETACH);
	rmdir(dir);
	if (err)
		return err;
	if (!is_cgroup_root(fd)) {
		close(fd);
		return -EXDEV;	/* in a cgroup namespace: not the node's root */
	}
	snprintf(path, len, "the cgroup2 root (mounted for the attach)");
	return fd;
}

/* The cgroup to attach to, opened: want, else the root of the cgroup v2 hierarchy. */
static int cgroup_open(const char *want, char *path, size_t len, struct kanary_err *e)
{
	struct statfs st;
	int fd, err;

	if (want) {
		snprintf(path, len, "%s", want);
		fd = open(want, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0)
			return kanary_errf(e, errno, "cannot open cgroup %s: %s", want, strerror(errno));
		if (fstatfs(fd, &st) == 0 && st.f_type == CGROUP2_SUPER_MAGIC)
			return fd;
		close(fd);
		return kanary_errf(e, ENOTDIR, "%s is not a cgroup v2 directory: " NO_CGROUP_HINT, want);
	}
	fd = root_from_mountinfo(path, len);
	if (fd >= 0)
		return fd;
	fd = root_from_own_mount(path, len);
	if (fd >= 0)
		return fd;
	err = -fd;
	return kanary_errf(e, err,
			   "no mount of the cgroup v2 root in /proc/self/mountinfo, and mounting one failed (%s): "
			   "mount the node's cgroup2 (the DaemonSet mounts the host's /sys/fs/cgroup), or "
			   NO_CGROUP_HINT,
			   err == EXDEV ? "it shows a cgroup namespace, not the node's root" : strerror(err));
}

/* The cgroup id the link is attached to; 0 when its cgroup is gone or fd is no cgroup link. */
static __u64 link_cgroup_id(int link_fd)
{
	struct bpf_link_info info = {};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(link_fd, &info, &len) || info.type != BPF_LINK_TYPE_CGROUP)
		return 0;
	return info.cgroup.cgroup_id;
}

static int link_open(const char *pin, char *path, size_t len, struct kanary_err *e)
{
	int err = kanary_pin_join(path, len, pin, KANARY_LINK_SOCKOPS, e), fd;

	if (err)
		return err;
	fd = bpf_obj_get(path);
	if (fd >= 0)
		return fd;
	if (errno == ENOENT)
		return kanary_errf(e, ENOENT, "TCP health is not attached for %s (no %s)", pin, path);
	return kanary_errf(e, errno, "cannot open %s: %s", path, strerror(errno));
}

int kanary_sockops_detach(const char *pin_path, struct kanary_err *e)
{
	char path[PATH_MAX];
	int fd = link_open(pin_path, path, sizeof(path), e), err = 0;

	if (fd < 0)
		return fd;
	/* Detached even if another process still holds the link. */
	if (bpf_link_detach(fd) && errno != ENOLINK)
		err = kanary_errf(e, errno, "cannot detach %s: %s", path, strerror(errno));
	close(fd);
	if (!err && unlink(path))
		err = kanary_errf(e, errno, "cannot remove %s: %s", path, strerror(errno));
	return err;
}

bool kanary_sockops_attached(const char *pin_path)
{
	char path[PATH_MAX];
	int fd = link_open(pin_path, path, sizeof(path), NULL);
	bool live;

	if (fd < 0)
		return false;
	live = link_cgroup_id(fd) != 0;
	close(fd);
	return live;
}

/* A link to the cgroup, pinned: the attachment that outlives the loader. */
static int link_create(const char *path, int prog_fd, const char *want, struct kanary_err *e)
{
	char cg[PATH_MAX];
	int cg_fd = cgroup_open(want, cg, sizeof(cg), e), fd, err = 0;

	if (cg_fd < 0)
		return cg_fd;
	fd = bpf_link_create(prog_fd, cg_fd, BPF_CGROUP_SOCK_OPS, NULL);
	if (fd < 0)
		err = kanary_errf(e, errno, "cannot attach the TCP health program (sockops) to %s: %s",
				  cg, strerror(errno));
	else if (bpf_obj_pin(fd, path))
		err = kanary_errf(e, errno, "cannot pin %s: %s", path, strerror(errno));
	if (fd >= 0)
		close(fd);	/* unpinned, this detaches it again */
	close(cg_fd);
	return err;
}

/* Whether the live link stays where it is: no cgroup asked for, or the same one. */
static bool link_stays(int link_fd, const char *want)
{
	__u64 id = link_cgroup_id(link_fd);
	struct stat st;

	if (!id)
		return false;
	if (!want)
		return true;
	/* A cgroup's id is its directory's inode number on cgroup2. */
	return stat(want, &st) == 0 && (__u64)st.st_ino == id;
}

int kanary_sockops_attach(const char *pin_path, int prog_fd, const char *want,
			  struct kanary_err *e)
{
	char path[PATH_MAX];
	int fd, err;

	if (want && !strcmp(want, KANARY_CGROUP_NONE)) {
		err = kanary_sockops_detach(pin_path, e);
		return err == -ENOENT ? 0 : err;
	}
	fd = link_open(pin_path, path, sizeof(path), e);
	if (fd == -ENOENT)
		return link_create(path, prog_fd, want, e);
	if (fd < 0)
		return fd;
	if (link_stays(fd, want)) {
		err = bpf_link_update(fd, prog_fd, NULL);
		close(fd);
		if (err)
			return kanary_errf(e, errno, "cannot move %s to the new program: %s", path,
					   strerror(errno));
		return 0;
	}
	close(fd);
	err = kanary_sockops_detach(pin_path, e);
	return err ? err : link_create(path, prog_fd, want, e);
}
