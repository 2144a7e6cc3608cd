/*
 * sandbox.c -- seccomp filters of dotstubd's two processes (privsep.h),
 * with libseccomp.
 *
 * Each process allows the system calls it makes and is killed
 * (SCMP_ACT_KILL_PROCESS, SIGSYS) by any other, by a call of another
 * architecture (x32, i386 on x86_64) too.  no_new_privs is set first, in
 * every case.  The lists are what the integration suite makes each process
 * call (tests/tools/seccomp_calls.py says how to see that again), and the
 * calls of paths it reaches rarely, read from the code: a signal's return,
 * a reload (the configuration read again, new listeners bound), the syslog
 * socket reconnected, a failed write cleaned up.
 *
 * The network process may not create, change or remove a file: open and
 * openat only without O_WRONLY, O_RDWR, O_CREAT, O_TRUNC, O_APPEND and
 * O_TMPFILE; no rename, link, unlink, mkdir, mknod, chmod, chown,
 * truncate, utimes, xattr or fallocate call at all; sockets only of the
 * families it uses (AF_INET, AF_INET6, AF_NETLINK; AF_UNIX fails with
 * EACCES, as a missing nscd socket does for glibc, so that it cannot make
 * a socket file with bind); threads but no new process (clone only with
 * CLONE_THREAD; clone3 fails with ENOSYS and glibc falls back to clone);
 * no execve, no ptrace, no signal but to itself.  Loading libunbound for
 * a walk (dlopen) needs open read-only and mmap/mprotect with PROT_EXEC;
 * both are allowed.
 *
 * The store process writes the store and resolv-conf-out (open with any
 * flags, rename, unlink, fsync, flock, fchmod), binds listeners (socket
 * AF_INET, AF_INET6; AF_UNIX for the notify socket), hands descriptors to
 * the network process (sendmsg, memfd_create) and signals only it (kill
 * of that pid); it starts no process.
 *
 * Built with sanitizers (meson -Db_sanitize=...), both filters allow what
 * the sanitizer runtimes call besides (the list "sanitizer" below:
 * LeakSanitizer stops the world with a clone without CLONE_THREAD and
 * ptrace at exit; a report starts the symbolizer): a wider set, in that
 * build only, where those calls are allowed with any arguments.
 */
#include "dotstub-config.h"
#include "privsep.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <sched.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dotstub/log.h"

#if HAVE_SECCOMP
#include <seccomp.h>

/* Allowed with any arguments, in both processes: reading and writing
 * descriptors they hold, memory, the event loop, signals, time (sysinfo:
 * glibc's qsort of a large array asks how much memory there is). */
static const char *const both[] = {
	"read", "readv", "write", "writev", "close", "lseek", "fstat", "newfstatat", "fcntl",
	"brk", "munmap", "mremap", "madvise",
	"epoll_create1", "epoll_ctl", "epoll_wait", "pipe2",
	"rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "restart_syscall",
	"clock_gettime", "gettimeofday", "getpid", "getuid", "geteuid", "getgid", "getegid",
	"getrandom", "futex", "exit_group", "sysinfo",
	"accept4", "sendto", "sendmsg", "recvmsg", "getsockopt", "setsockopt",
};

/* The store process: the store and resolv-conf-out (write, fsync, rename,
 * unlink, lock), listener sockets for a reload, the notify socket, the
 * network process (a sealed memfd, its exit). */
static const char *const store_only[] = {
	"openat", "open", "getdents64", "rename", "renameat", "renameat2", "unlink", "unlinkat",
	"fsync",
	"flock", "fchmod", "memfd_create", "bind", "listen", "connect", "wait4",
};

/* The network process: its sockets (UDP and TCP to clients, upstreams and
 * the network's resolver; netlink), the walk (a thread, libunbound loaded
 * with dlopen: mprotect with PROT_EXEC), inotify for resolv-source and
 * networkd's state files (and their directory, read), the pause detector's timerfd, the store's memfd
 * (pread), sd-bus (ppoll in its calls; access and readlink of what it
 * reads about the bus and itself). */
static const char *const network_only[] = {
	"pread64", "mmap", "mprotect", "bind", "connect", "getsockname", "getpeername", "shutdown",
	"sendmmsg", "recvfrom", "recvmmsg", "socketpair", "poll", "timerfd_create",
	"timerfd_settime", "inotify_init1", "inotify_add_watch", "inotify_rm_watch",
	"set_robust_list", "rseq", "exit", "clock_nanosleep", "nanosleep",
	"sched_yield", "gettid", "ppoll", "access", "readlink", "getdents64",
};

#if DS_SANITIZED
/* The sanitizer runtimes' own, with any arguments (an ASan/UBSan build
 * only): thread bookkeeping (gettid, sched_getaffinity, sigaltstack),
 * LeakSanitizer stopping the world at exit (a clone without CLONE_THREAD
 * that ptraces the threads it finds in /proc/self/task), abort_on_error
 * (tgkill), and a report's symbolizer (fork, dup2, execve). */
static const char *const sanitizer[] = {
	"clone", "fork", "execve", "ptrace", "wait4", "prctl", "gettid", "getppid",
	"sched_getaffinity", "sched_yield", "sigaltstack", "getdents", "getdents64", "exit", "tgkill",
	"readlink", "dup2", "dup3",
};
#endif

/* The distinct system calls a filter allows (for the log and the tests). */
struct counted {
	int nr[512];
	unsigned n;
};

static void count_nr(struct counted *c, int nr)
{
	for (unsigned i = 0; i < c->n; i++)
		if (c->nr[i] == nr)
			return;
	if (c->n < sizeof(c->nr) / sizeof(c->nr[0]))
		c->nr[c->n++] = nr;
}

/* Argument n equals v; argument n with mask m equals v.  (Every field
 * set: libseccomp's SCMP_A* leave datum_b to the compiler.) */
static struct scmp_arg_cmp arg_eq(unsigned n, scmp_datum_t v)
{
	struct scmp_arg_cmp c = { n, SCMP_CMP_EQ, v, 0 };

	return c;
}

static struct scmp_arg_cmp arg_masked(unsigned n, scmp_datum_t m, scmp_datum_t v)
{
	struct scmp_arg_cmp c = { n, SCMP_CMP_MASKED_EQ, m, v };

	return c;
}

/* Add one rule; a name this architecture does not have is skipped. */
static int allow(scmp_filter_ctx ctx, const char *name, struct counted *count, unsigned n,
		 const struct scmp_arg_cmp *cmp)
{
	int nr = seccomp_syscall_resolve_name(name);
	int r;

	if (nr == __NR_SCMP_ERROR || nr < 0)
		return 0;
	r = seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, nr, n, cmp);
	if (r == -EEXIST) /* allowed already (with any arguments) */
		return 0;
	if (r < 0)
		return r;
	count_nr(count, nr);
	return 0;
}

static int allow_all(scmp_filter_ctx ctx, const char *const *names, size_t n,
		     struct counted *count)
{
	for (size_t i = 0; i < n; i++) {
		int r = allow(ctx, names[i], count, 0, NULL);

		if (r < 0)
			return r;
	}
	return 0;
}

static int fail_with(scmp_filter_ctx ctx, const char *name, int err, unsigned n,
		     const struct scmp_arg_cmp *cmp)
{
	int nr = seccomp_syscall_resolve_name(name);

	if (nr == __NR_SCMP_ERROR || nr < 0)
		return 0;
	return seccomp_rule_add_array(ctx, SCMP_ACT_ERRNO((uint32_t)err), nr, n, cmp);
}

/* (O_TMPFILE includes O_DIRECTORY: only its own bit, or no directory
 * could be opened) */
#define WRITE_FLAGS (O_WRONLY | O_RDWR | O_CREAT | O_TRUNC | O_APPEND | (O_TMPFILE & ~O_DIRECTORY))

static int network_rules(scmp_filter_ctx ctx, bool bus, struct counted *count)
{
	const struct scmp_arg_cmp rdonly_at = arg_masked(2, WRITE_FLAGS, 0);
	const struct scmp_arg_cmp rdonly = arg_masked(1, WRITE_FLAGS, 0);
	const struct scmp_arg_cmp thread = arg_masked(0, CLONE_THREAD, CLONE_THREAD);
	const struct scmp_arg_cmp self = arg_eq(0, (scmp_datum_t)getpid());
	const struct scmp_arg_cmp unix_sock = arg_eq(0, AF_UNIX);
	static const int families[] = { AF_INET, AF_INET6, AF_NETLINK };
	int r;

	r = allow_all(ctx, network_only, sizeof(network_only) / sizeof(network_only[0]), count);
	if (r == 0)
		r = allow(ctx, "openat", count, 1, &rdonly_at);
	if (r == 0)
		r = allow(ctx, "open", count, 1, &rdonly);
	if (r == 0)
		r = allow(ctx, "clone", count, 1, &thread);
	if (r == 0)
		r = allow(ctx, "tgkill", count, 1, &self);
	for (size_t i = 0; r == 0 && i < sizeof(families) / sizeof(families[0]); i++) {
		const struct scmp_arg_cmp fam = arg_eq(0, (scmp_datum_t)families[i]);

		r = allow(ctx, "socket", count, 1, &fam);
	}
	/* AF_UNIX: the system bus (resolve1 yes); else refused, not fatal
	 * (glibc's NSS tries nscd's socket) */
	if (r == 0 && bus)
		r = allow(ctx, "socket", count, 1, &unix_sock);
	else if (r == 0)
		r = fail_with(ctx, "socket", EACCES, 1, &unix_sock);
	if (r == 0)
		r = fail_with(ctx, "clone3", ENOSYS, 0, NULL);
	return r;
}

static int store_rules(scmp_filter_ctx ctx, pid_t peer, struct counted *count)
{
	const struct scmp_arg_cmp child = arg_eq(0, (scmp_datum_t)peer);
	static const int families[] = { AF_INET, AF_INET6, AF_UNIX };
	int r;

	const struct scmp_arg_cmp noexec = arg_masked(2, PROT_EXEC, 0);

	r = allow_all(ctx, store_only, sizeof(store_only) / sizeof(store_only[0]), count);
	/* (malloc's own: nothing of it is ever executable) */
	if (r == 0)
		r = allow(ctx, "mmap", count, 1, &noexec);
	if (r == 0)
		r = allow(ctx, "mprotect", count, 1, &noexec);
	/* kill: the network process only */
	if (r == 0 && peer > 0)
		r = allow(ctx, "kill", count, 1, &child);
	for (size_t i = 0; r == 0 && i < sizeof(families) / sizeof(families[0]); i++) {
		const struct scmp_arg_cmp fam = arg_eq(0, (scmp_datum_t)families[i]);

		r = allow(ctx, "socket", count, 1, &fam);
	}
	return r;
}

static int build(enum ds_sandbox_kind kind, bool bus, pid_t peer, scmp_filter_ctx *ret,
		 struct counted *count)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
	const struct scmp_arg_cmp fionread = arg_eq(1, FIONREAD);
	const struct scmp_arg_cmp ifindex = arg_eq(1, SIOCGIFINDEX);
	const struct scmp_arg_cmp ifname = arg_eq(1, SIOCGIFNAME);
	const struct scmp_arg_cmp ifflags = arg_eq(1, SIOCGIFFLAGS);
	const struct scmp_arg_cmp ifhwaddr = arg_eq(1, SIOCGIFHWADDR);
	const struct scmp_arg_cmp tcgets = arg_eq(1, TCGETS);
	int r;

	count->n = 0;
	if (!ctx)
		return -ENOMEM;
	r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
	if (r == 0)
		r = allow_all(ctx, both, sizeof(both) / sizeof(both[0]), count);
	/* ioctl: FIONREAD (libevent sizes its reads), SIOCGIFINDEX and
	 * SIOCGIFNAME (glibc's if_nametoindex and if_indextoname: an address
	 * with a scope, a link's name), SIOCGIFFLAGS (what resolve1 tells of
	 * a link), SIOCGIFHWADDR (a link's fingerprint), TCGETS (stdio's isatty on a character
	 * device) */
	if (r == 0)
		r = allow(ctx, "ioctl", count, 1, &fionread);
	if (r == 0)
		r = allow(ctx, "ioctl", count, 1, &ifindex);
	if (r == 0)
		r = allow(ctx, "ioctl", count, 1, &ifname);
	if (r == 0)
		r = allow(ctx, "ioctl", count, 1, &ifflags);
	if (r == 0)
		r = allow(ctx, "ioctl", count, 1, &ifhwaddr);
	if (r == 0)
		r = allow(ctx, "ioctl", count, 1, &tcgets);
#if DS_SANITIZED
	if (r == 0)
		r = allow_all(ctx, sanitizer, sizeof(sanitizer) / sizeof(sanitizer[0]), count);
#endif
	if (r == 0)
		r = kind == DS_SANDBOX_NETWORK ? network_rules(ctx, bus, count)
					       : store_rules(ctx, peer, count);
	if (r < 0) {
		seccomp_release(ctx);
		return r;
	}
	*ret = ctx;
	return 0;
}
#endif /* HAVE_SECCOMP */

static const char *kind_name(enum ds_sandbox_kind kind)
{
	return kind == DS_SANDBOX_NETWORK ? "network process" : "store process";
}

int ds_sandbox_enter(enum ds_sandbox_kind kind, bool seccomp_on, bool bus, pid_t peer)
{
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		int r = -errno;

		log_err("%s: no_new_privs: %s", kind_name(kind), strerror(errno));
		return r;
	}
#if HAVE_SECCOMP
	if (seccomp_on) {
		static struct counted count;
		scmp_filter_ctx ctx;
		int r = build(kind, bus, peer, &ctx, &count);

		if (r == 0) {
			r = seccomp_load(ctx);
			seccomp_release(ctx);
		}
		if (r < 0) {
			log_err("%s: seccomp filter: %s", kind_name(kind), strerror(-r));
			return r;
		}
		log_info("%s: seccomp filter of %u system calls%s", kind_name(kind), count.n,
			 DS_SANITIZED ? " (with the sanitizers' own)" : "");
		return 0;
	}
#endif
	log_notice("%s: no seccomp filter (%s)", kind_name(kind),
		   HAVE_SECCOMP ? "seccomp no" : "built without libseccomp");
	return 0;
}

unsigned ds_sandbox_syscalls(enum ds_sandbox_kind kind)
{
#if HAVE_SECCOMP
	static struct counted count;
	scmp_filter_ctx ctx;

	if (build(kind, false, getpid(), &ctx, &count) < 0)
		return 0;
	seccomp_release(ctx);
	return count.n;
#else
	(void)kind;
	return 0;
#endif
}
