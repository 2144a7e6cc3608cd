/*
 * test_store_io.c -- the anchor store on disk: concurrent writers, a stale
 * temporary file, a full disk (or file size limit) leaving the old file
 * intact, and the ownership and modes that make a store untrusted.
 */
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "store_fixture.h"

static void test_stale_writer(void **state)
{
	char *dir = make_tmpdir();
	struct trust_store *s1, *s2;
	struct trust_dnskey k13, k15;

	key(KEY13, &k13);
	key(KEY15, &k15);
	s1 = open_dir(dir, NULL, 0, 0, NULL);
	s2 = open_dir(dir, NULL, 0, 0, NULL);
	assert_int_equal(trust_store_pin(s1, ZONE, &k13, TRUST_STATE_TRUSTED, T0, NULL), 1);
	assert_int_equal(trust_store_save(s1), 0);
	assert_int_equal(trust_store_pin(s2, ZONE, &k15, TRUST_STATE_TRUSTED, T0, NULL), 1);
	assert_int_equal(trust_store_save(s2), -ESTALE); /* would lose s1's pin */
	trust_store_close(s2);
	s2 = open_dir(dir, NULL, 0, 0, NULL);
	assert_int_equal(trust_store_count(s2), 1);
	assert_int_equal(trust_store_pin(s2, ZONE, &k15, TRUST_STATE_TRUSTED, T0, NULL), 1);
	assert_int_equal(trust_store_save(s2), 0);
	assert_int_equal(trust_store_save(s2), 0); /* its own write is not stale */
	assert_int_equal(trust_store_save(s1), -ESTALE);
	trust_store_close(s1);
	trust_store_close(s2);
	s1 = open_dir(dir, NULL, TRUST_OPEN_READONLY, 0, NULL);
	assert_int_equal(trust_store_count(s1), 2);
	assert_int_equal(trust_store_save(s1), -EROFS);
	trust_store_close(s1);
	rm_rf(dir);
	free(dir);
}

static void test_stale_temp_removed(void **state)
{
	char *dir = make_tmpdir(), *left;
	struct trust_store *s = open_dir(dir, NULL, 0, 0, NULL);

	write_file(dir, "." TRUST_STORE_FILE ".tmp-abcdef", "half a file");
	assert_int_equal(trust_store_save(s), 0);
	left = find_prefixed(dir, "." TRUST_STORE_FILE ".tmp-");
	assert_null(left);
	trust_store_close(s);
	rm_rf(dir);
	free(dir);
}

/* Fill s until its text exceeds want octets. */
static void grow(struct trust_store *s, size_t want)
{
	const struct trust_anchor *a;
	unsigned n = 100;
	size_t len = 0;

	while (len < want) {
		struct trust_dnskey k;
		char *text;

		numbered_key(n++, &k);
		assert_true(trust_store_pin(s, ZONE, &k, TRUST_STATE_TRUSTED, T0, &a) >= 0);
		assert_int_equal(trust_store_format(s, &text, &len), 0);
		free(text);
	}
}

/* In a child: 0 if saving onto a full file system failed with err and left
 * the old file as it was. */
static int full_disk_child(const char *dir, int want_err)
{
	struct trust_store *s;
	char *before, *after;
	int r;

	s = open_dir(dir, NULL, 0, 0, NULL);
	before = read_file(dir, TRUST_STORE_FILE);
	if (!before)
		return 10;
	grow(s, 128 * 1024);
	r = trust_store_save(s);
	if (r != want_err)
		return 11;
	after = read_file(dir, TRUST_STORE_FILE);
	if (!after || strcmp(before, after) != 0)
		return 12;
	if (find_prefixed(dir, "." TRUST_STORE_FILE ".tmp-"))
		return 13; /* the temporary file was removed */
	trust_store_close(s);
	s = open_dir(dir, NULL, 0, 0, NULL);
	if (trust_store_count(s) != 1)
		return 14;
	trust_store_close(s);
	return 0;
}

static void save_one_pin(const char *dir)
{
	struct trust_store *s = open_dir(dir, NULL, 0, 0, NULL);
	struct trust_dnskey k;

	key(KEY13, &k);
	assert_int_equal(trust_store_pin(s, ZONE, &k, TRUST_STATE_TRUSTED, T0, NULL), 1);
	assert_int_equal(trust_store_save(s), 0);
	trust_store_close(s);
}

static void test_enospc_keeps_old_file(void **state)
{
	char *dir = make_tmpdir();
	pid_t pid;
	int status;

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* a private 64 KiB tmpfs (needs root); 0700, as a tmpfs
		 * is 1777 by default, which the store refuses */
		if (unshare(CLONE_NEWNS) < 0 ||
		    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
		    mount("tmpfs", dir, "tmpfs", 0, "size=64k,mode=0700") < 0)
			_exit(77);
		save_one_pin(dir);
		_exit(full_disk_child(dir, -ENOSPC));
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status) == 77) {
		/* not root: a file size limit gives EFBIG the same way */
		save_one_pin(dir);
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			struct rlimit rl = { 64 * 1024, 64 * 1024 };

			signal(SIGXFSZ, SIG_IGN);
			if (setrlimit(RLIMIT_FSIZE, &rl) < 0)
				_exit(20);
			_exit(full_disk_child(dir, -EFBIG));
		}
		assert_int_equal(waitpid(pid, &status, 0), pid);
		assert_true(WIFEXITED(status));
	}
	assert_int_equal(WEXITSTATUS(status), 0);
	rm_rf(dir);
	free(dir);
}

/* trust_store_check_perms on dir for uid: its return, msg must hold want
 * (if any) */
static void expect_perms(const char *dir, uid_t uid, int ret, const char *want)
{
	char msg[1024];

	assert_int_equal(trust_store_check_perms(dir, uid, msg, sizeof(msg)), ret);
	if (want && !strstr(msg, want))
		fail_msg("wanted '%s' in '%s'", want, msg);
}

static char *join(const char *a, const char *b)
{
	char *p;

	assert_true(asprintf(&p, "%s/%s", a, b) > 0);
	return p;
}

static void test_perms_modes(void **state)
{
	char *base = make_tmpdir(), *dir = join(base, "state"), *file = join(dir, "anchors");
	char *fix_dir, *fix_file;
	uid_t me = geteuid();

	assert_true(asprintf(&fix_dir, "chmod go-w %s", dir) > 0);
	assert_true(asprintf(&fix_file, "chmod go-w %s", file) > 0);
	expect_perms(dir, me, -ENOENT, NULL);
	assert_int_equal(mkdir(dir, 0755), 0);
	expect_perms(dir, me, 0, NULL); /* no file yet: fine */
	write_file(dir, "anchors", "");
	assert_int_equal(chmod(file, 0644), 0);
	expect_perms(dir, me, 0, NULL);
	assert_int_equal(chmod(dir, 0777), 0);
	expect_perms(dir, me, -EPERM, fix_dir);
	assert_int_equal(chmod(dir, 01777), 0); /* sticky is no excuse for the state dir */
	expect_perms(dir, me, -EPERM, fix_dir);
	assert_int_equal(chmod(dir, 0770), 0);
	expect_perms(dir, me, -EPERM, "state directory");
	assert_int_equal(chmod(dir, 0700), 0);
	assert_int_equal(chmod(file, 0664), 0);
	expect_perms(dir, me, -EPERM, fix_file);
	assert_int_equal(chmod(file, 0646), 0);
	expect_perms(dir, me, -EPERM, "anchors file");
	assert_int_equal(chmod(file, 0600), 0);
	expect_perms(dir, me, 0, NULL);
	/* a parent: writable by others only with the sticky bit */
	assert_int_equal(chmod(base, 0777), 0);
	expect_perms(dir, me, -EPERM, "parent directory");
	assert_int_equal(chmod(base, 01777), 0);
	expect_perms(dir, me, 0, NULL);
	assert_int_equal(chmod(base, 0700), 0);
	rm_rf(base);
	free(fix_dir);
	free(fix_file);
	free(file);
	free(dir);
	free(base);
}

static void test_perms_links(void **state)
{
	char *base = make_tmpdir(), *real = join(base, "real"), *dir = join(base, "state");
	char *file = join(dir, "anchors"), *other = join(base, "other");
	uid_t me = geteuid();

	assert_int_equal(mkdir(real, 0700), 0);
	assert_int_equal(symlink(real, dir), 0);
	expect_perms(dir, me, -EPERM, "symbolic link");
	{
		char *slash;

		assert_true(asprintf(&slash, "%s//", dir) > 0); /* would follow it */
		expect_perms(slash, me, -EPERM, "symbolic link");
		free(slash);
	}
	/* the store does not open through it either */
	{
		struct trust_open_report rep;
		struct trust_store *s = open_dir(dir, NULL, 0, -EPERM, &rep);

		assert_null(s);
		assert_non_null(strstr(rep.error, "symbolic link"));
	}
	assert_int_equal(unlink(dir), 0);
	assert_int_equal(mkdir(dir, 0700), 0);
	write_file(base, "other", "");
	assert_int_equal(symlink(other, file), 0);
	expect_perms(dir, me, -EPERM, "symbolic link");
	{
		struct trust_open_report rep;
		struct trust_store *s = open_dir(dir, NULL, 0, -EPERM, &rep);

		assert_null(s);
		assert_non_null(strstr(rep.error, file));
		/* not quarantined: the link is still there */
		assert_int_equal(access(file, F_OK), 0);
	}
	rm_rf(base);
	free(other);
	free(file);
	free(dir);
	free(real);
	free(base);
}

/* Owned by another user (needs root to chown). */
static void test_perms_owner(void **state)
{
	char *base = make_tmpdir(), *dir = join(base, "state"), *file = join(dir, "anchors");
	char *fix;
	uid_t other = 65534;

	if (geteuid() != 0) {
		rm_rf(base);
		free(file);
		free(dir);
		free(base);
		skip();
	}
	assert_true(asprintf(&fix, "chown root %s", dir) > 0);
	assert_int_equal(mkdir(dir, 0755), 0);
	assert_int_equal(chown(dir, other, 0), 0);
	expect_perms(dir, 0, -EPERM, fix);
	expect_perms(dir, other, 0, NULL); /* the daemon's user may own it */
	{
		struct trust_open_report rep;
		struct trust_store *s = open_dir(dir, NULL, 0, -EPERM, &rep);

		assert_null(s);
		assert_non_null(strstr(rep.error, fix));
	}
	assert_int_equal(chown(dir, 0, 0), 0);
	write_file(dir, "anchors", "");
	assert_int_equal(chmod(file, 0644), 0);
	assert_int_equal(chown(file, other, 0), 0);
	expect_perms(dir, 0, -EPERM, file);
	expect_perms(dir, other, 0, NULL);
	expect_perms(dir, 1, -EPERM, "(uid 1)");
	{
		struct trust_open_report rep;
		struct trust_store *s = open_dir(dir, NULL, 0, -EPERM, &rep);

		assert_null(s);
		assert_non_null(strstr(rep.error, file));
		assert_int_equal(access(file, F_OK), 0); /* left in place */
	}
	rm_rf(base);
	free(fix);
	free(file);
	free(dir);
	free(base);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stale_writer),
		cmocka_unit_test(test_stale_temp_removed),
		cmocka_unit_test(test_enospc_keeps_old_file),
		cmocka_unit_test(test_perms_modes),
		cmocka_unit_test(test_perms_links),
		cmocka_unit_test(test_perms_owner),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
