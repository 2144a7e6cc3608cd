/*
 * test_store_io.c -- the anchor store on disk: concurrent writers, a stale
 * temporary file, and a full disk (or file size limit) leaving the old file
 * intact.
 */
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/resource.h>
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
		/* a private 64 KiB tmpfs (needs root) */
		if (unshare(CLONE_NEWNS) < 0 ||
		    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
		    mount("tmpfs", dir, "tmpfs", 0, "size=64k") < 0)
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stale_writer),
		cmocka_unit_test(test_stale_temp_removed),
		cmocka_unit_test(test_enospc_keeps_old_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
