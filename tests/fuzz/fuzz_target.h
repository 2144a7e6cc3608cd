/*
 * fuzz_target.h -- the libFuzzer entry point every tests/fuzz/fuzz_*.c
 * defines, and replay_main.c calls on each corpus file.
 */
#ifndef DOTSTUB_FUZZ_TARGET_H
#define DOTSTUB_FUZZ_TARGET_H

#include <stddef.h>
#include <stdint.h>

/* Run one input; return 0.  Must never crash, whatever data holds; a
 * broken internal invariant aborts. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
