/*
 * fdio.h -- whole writes to a file descriptor, a file replaced whole.
 */
#ifndef DOTSTUB_FDIO_H
#define DOTSTUB_FDIO_H

#include <stddef.h>
#include <sys/types.h>

/* Write all len octets of buf to fd, again after EINTR and short writes.
 * Returns 0, or -errno (-EIO if write(2) wrote nothing). */
int ds_write_all(int fd, const void *buf, size_t len);

/* Replace the file at path with buf, crash-safely: a temp file in the same
 * directory (mkostemp: created 0600, then given mode), fsync, rename over
 * path, fsync of the directory.  A reader sees the old file or the new
 * one, never a part.  Returns 0 or -errno (the temp file is removed). */
int ds_file_replace(const char *path, const void *buf, size_t len, mode_t mode);

#endif
