/*
 * tests/gnumach/include/mach_port.user.h: MIG's user header of mach_port.defs in GNU
 * Mach's test build; here the calls are libmotrace-mach's, in <mach.h>.
 */
#include <mach.h>
#include <syscalls.h>

/*
 * What follows in GNU Mach's test file are its hand-built messages: laid
 * out as MIG lays them for the library's ABI, packed at 4 (testlib.h).
 */
#pragma pack(4)
