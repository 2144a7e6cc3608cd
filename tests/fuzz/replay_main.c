/*
 * replay_main.c -- run a fuzz target over every file of a corpus directory
 * (argv[1]), so the corpora are regression tests in the normal suite.
 * Fails if the directory is missing, unreadable, or holds no file.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz_target.h"

#define REPLAY_MAX_INPUT (1 << 20)

/* Read all of the regular file name in dir (at most REPLAY_MAX_INPUT octets). */
static int
replay_file(int dfd, const char *name, uint8_t *buf, unsigned *count)
{
	struct stat st;
	size_t len = 0;
	uint8_t *in;
	int fd;

	fd = openat(dfd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return 0; /* not a file: ignored */
	}
	for (;;) {
		ssize_t n = read(fd, buf + len, REPLAY_MAX_INPUT - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int err = -errno;

			close(fd);
			return err;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len == REPLAY_MAX_INPUT)
			break;
	}
	close(fd);
	/* a private copy of exactly len octets, so ASan sees overreads */
	in = malloc(len > 0 ? len : 1);
	if (in == NULL)
		return -ENOMEM;
	memcpy(in, buf, len);
	LLVMFuzzerTestOneInput(in, len);
	free(in);
	(*count)++;
	return 0;
}

int
main(int argc, char **argv)
{
	struct dirent *de;
	unsigned count = 0;
	uint8_t *buf;
	DIR *d;
	int err;

	if (argc != 2) {
		fprintf(stderr, "usage: %s CORPUS-DIR\n", argv[0]);
		return 2;
	}
	d = opendir(argv[1]);
	if (d == NULL) {
		fprintf(stderr, "%s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	buf = malloc(REPLAY_MAX_INPUT);
	if (buf == NULL) {
		closedir(d);
		return 1;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		err = replay_file(dirfd(d), de->d_name, buf, &count);
		if (err < 0) {
			fprintf(stderr, "%s/%s: %s\n", argv[1], de->d_name, strerror(-err));
			free(buf);
			closedir(d);
			return 1;
		}
	}
	free(buf);
	closedir(d);
	if (count == 0) {
		fprintf(stderr, "%s: no corpus files\n", argv[1]);
		return 1;
	}
	printf("%u inputs replayed\n", count);
	return 0;
}
