/*
 * tests/decode/capture.h: a mach_msg() that records instead of sending, so
 * that MIG-generated stubs produce the exact bytes of real messages.
 */
#ifndef MO_TEST_CAPTURE_H
#define MO_TEST_CAPTURE_H

#include <stdio.h>

/* Where captured messages go (binary, one after another). */
extern FILE *capture_out;

#endif
