# motrace: top-level Makefile (GNU make). Every object and generated file
# goes under $(B); each folder adds its rules in its own module.mk.
#
#   make            build everything (checks Debian packages first)
#   make check      build and run every test
#   make check SANITIZE=1   the same with ASan and UBSan, in build-san
#   make demo       run motrace's main job on the bundled sample
#   make bench      run the benchmarks
#   make fuzz       run every fuzz target (FUZZ_SECONDS each, default 60)
#   make install    install under $(DESTDIR)$(PREFIX)
#   make hurd-trial HURD_SRC=DIR   the Hurd's libpager on the library (tests/hurd/)
#   make clean      remove $(B)

# SANITIZE=1: the same build with AddressSanitizer and
# UndefinedBehaviorSanitizer, in a folder of its own (make check SANITIZE=1).
ifeq ($(SANITIZE),1)
B        ?= build-san
endif
B        ?= build
PREFIX   ?= /usr/local
BINDIR   ?= $(PREFIX)/bin
LIBDIR   ?= $(PREFIX)/lib
INCDIR   ?= $(PREFIX)/include
MANDIR   ?= $(PREFIX)/share/man
DESTDIR  ?=

CC       ?= cc
AWK      ?= awk
MIG      ?= x86_64-gnu-mig
# Where gnumach-dev puts the .defs files and the Mach headers.
MACHINC  ?= /usr/include/x86_64-linux-gnu
CFLAGS   ?= -O2 -g
ifeq ($(SANITIZE),1)
# Alignment is not checked: MIG packs messages at 4 bytes (#pragma pack(4)
# in its output) while GNU Mach's x86_64 mach_msg_header_t asks for 8, so
# every message access would be flagged; x86 reads them as they are.
SANITIZE_FLAGS := -fsanitize=address,undefined -fno-sanitize=alignment \
                  -fno-sanitize-recover=undefined -fno-omit-frame-pointer
override CFLAGS  += $(SANITIZE_FLAGS)
override LDFLAGS += $(SANITIZE_FLAGS)
export SANITIZE
# A finding fails the program (and so its test) with the report on stderr.
# Leaks are not looked for at exit here: LeakSanitizer stops every thread
# to scan (StopTheWorld), and under load it waited for good on a pager
# with libmotrace-mach's three threads (the SIGTERM'd mo-filepager of
# t1004, its tracer attached and never done). The fuzz targets still
# look for leaks on every input (libFuzzer's -detect_leaks).
export ASAN_OPTIONS ?= abort_on_error=0:detect_leaks=0:halt_on_error=1
export UBSAN_OPTIONS ?= print_stacktrace=1:halt_on_error=1
endif
WARN     := -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers
CPPFLAGS += -I. -I$(B)/gen -Imach/include -D_GNU_SOURCE
ALL_CFLAGS = $(WARN) $(CFLAGS) $(CPPFLAGS)
LDLIBS   ?=

.DEFAULT_GOAL := all
.PHONY: all check clean install deps demo bench fuzz
.SUFFIXES:
.DELETE_ON_ERROR:
.SECONDEXPANSION:
.SECONDARY:

# The dependency check runs before anything is built: a missing package is
# named (and installed, when run as root) instead of failing deep in a rule.
deps:
	@tools/deps

$(B)/%.o: %.c | deps
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

# Each module appends to these.
PROGRAMS :=
TEST_PROGRAMS :=
TESTS    :=
CLEAN    :=

include util/module.mk
include mig/module.mk
include decode/module.mk
include mach/module.mk
-include kernel/module.mk
-include pagers/module.mk
-include guest/module.mk
include tracer/module.mk
include plugins/module.mk
include cli/module.mk
include tests/module.mk
include bench/module.mk
include doc/module.mk

all: $(PROGRAMS)

clean:
	rm -rf $(B)

-include $(shell find $(B) -name '*.d' 2>/dev/null)
