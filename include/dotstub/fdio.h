/*
 * fdio.h -- whole writes to a file descriptor.
 */
#ifndef DOTSTUB_FDIO_H
#define DOTSTUB_FDIO_H

#include <stddef.h>

/* Write all len octets of buf to fd, again after EINTR and short writes.
 * Returns 0, or -errno (-EIO if write(2) wrote nothing). */
int ds_write_all(int fd, const void *buf, size_t len);

#endif
