/* tests/gnumach/include/util/atoi.h: atoi is the C library's here. */
#include <stdlib.h>
