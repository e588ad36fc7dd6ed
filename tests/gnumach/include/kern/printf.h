/* tests/gnumach/include/kern/printf.h: printf is the C library's here. */
#include <stdio.h>
