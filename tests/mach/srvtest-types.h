/* tests/mach/srvtest-types.h: the C type of srvtest.defs' int_array_t. */
#ifndef SRVTEST_TYPES_H
#define SRVTEST_TYPES_H
typedef int int_array_t[4096];
#endif
