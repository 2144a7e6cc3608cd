/*
 * sandbox_probe.c -- one system call under one of dotstubd's seccomp
 * filters (stub/daemon/sandbox.c, the very code the daemon runs): enters
 * the filter of the store or the network process, then tries OP on PATH.
 *
 *	sandbox_probe store|network OP PATH
 *
 * OP: open-read, open-dir (PATH's directory), open-raw (open(2), not
 * openat), open-write, open-rdwr, open-creat, open-trunc, creat,
 * rename (PATH to PATH.moved), unlink, mkdir, symlink, link, chmod,
 * truncate, socket-unix (bind one to PATH), fork, exec (/bin/true).
 *
 * Exit status: 0 the call succeeded, 3 it failed with an errno (printed);
 * a process the filter kills dies of SIGSYS (the shell sees 159), which
 * is what the tests of the network process expect for every call that
 * would create, change or remove a file.  "count" prints how many system
 * calls the filter allows.
 */
#include "privsep.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dotstub/log.h"

static int done(int r, const char *op)
{
	if (r < 0) {
		printf("%s: %s\n", op, strerror(errno));
		return 3;
	}
	printf("%s: done\n", op);
	return 0;
}

static int try_op(const char *op, const char *path)
{
	char other[4096];

	snprintf(other, sizeof(other), "%s.moved", path);
	if (!strcmp(op, "open-read"))
		return done(open(path, O_RDONLY | O_CLOEXEC), op);
	if (!strcmp(op, "open-dir")) { /* the directory PATH is in */
		char dir[4096];

		snprintf(dir, sizeof(dir), "%s", path);
		*(strrchr(dir, '/') ? strrchr(dir, '/') : dir) = '\0';
		return done(open(dir[0] ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC), op);
	}
	if (!strcmp(op, "open-raw")) /* the open system call itself, not openat */
		return done((int)syscall(SYS_open, path, O_RDONLY | O_CLOEXEC), op);
	if (!strcmp(op, "open-write"))
		return done(openat(AT_FDCWD, path, O_WRONLY | O_CLOEXEC), op);
	if (!strcmp(op, "open-rdwr"))
		return done(openat(AT_FDCWD, path, O_RDWR | O_CLOEXEC), op);
	if (!strcmp(op, "open-creat"))
		return done(openat(AT_FDCWD, other, O_RDONLY | O_CREAT | O_CLOEXEC, 0600), op);
	if (!strcmp(op, "open-trunc"))
		return done(openat(AT_FDCWD, path, O_RDONLY | O_TRUNC | O_CLOEXEC), op);
	if (!strcmp(op, "creat"))
		return done(creat(other, 0600), op);
	if (!strcmp(op, "rename"))
		return done(rename(path, other), op);
	if (!strcmp(op, "unlink"))
		return done(unlink(path), op);
	if (!strcmp(op, "mkdir"))
		return done(mkdir(other, 0700), op);
	if (!strcmp(op, "symlink"))
		return done(symlink(path, other), op);
	if (!strcmp(op, "link"))
		return done(link(path, other), op);
	if (!strcmp(op, "chmod"))
		return done(chmod(path, 0666), op);
	if (!strcmp(op, "truncate"))
		return done(truncate(path, 0), op);
	if (!strcmp(op, "socket-unix")) {
		struct sockaddr_un sun = { .sun_family = AF_UNIX };
		int fd = socket(AF_UNIX, SOCK_DGRAM, 0);

		if (fd < 0)
			return done(fd, op);
		if (strlen(other) >= sizeof(sun.sun_path))
			return 2;
		memcpy(sun.sun_path, other, strlen(other) + 1);
		return done(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), op);
	}
	if (!strcmp(op, "fork")) {
		pid_t p = fork();

		if (p == 0)
			_exit(0);
		if (p > 0)
			waitpid(p, NULL, 0);
		return done(p < 0 ? -1 : 0, op);
	}
	if (!strcmp(op, "exec")) {
		execl("/bin/true", "true", (char *)NULL);
		return done(-1, op);
	}
	fprintf(stderr, "sandbox_probe: unknown OP %s\n", op);
	return 2;
}

int main(int argc, char **argv)
{
	enum ds_sandbox_kind kind;

	if (argc < 3 || (strcmp(argv[1], "store") != 0 && strcmp(argv[1], "network") != 0)) {
		fprintf(stderr, "usage: sandbox_probe store|network OP PATH | count\n");
		return 2;
	}
	kind = !strcmp(argv[1], "store") ? DS_SANDBOX_STORE : DS_SANDBOX_NETWORK;
	if (!strcmp(argv[2], "count")) {
		printf("%u\n", ds_sandbox_syscalls(kind));
		return 0;
	}
	if (argc != 4) {
		fprintf(stderr, "usage: sandbox_probe store|network OP PATH\n");
		return 2;
	}
	ds_log_init("sandbox_probe", LOG_INFO, true);
	/* the store process may signal only its network process: here, none */
	if (ds_sandbox_enter(kind, true, false, getppid()) < 0)
		return 1;
	return try_op(argv[2], argv[3]);
}
