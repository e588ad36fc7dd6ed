/*
 * kernel/script-words.h: the words of the workload language
 * (doc/workload.md), one list for mo-map (kernel/mo-map.c) and the GNU
 * Mach agent (guest/agent/script.c), which run the same scripts. Plain
 * macros only: the agent is freestanding code.
 *
 *   X(NAME, OP, MIN, MAX)   MIN..MAX operands; MAX -1: any number
 */
#ifndef MO_SCRIPT_WORDS_H
#define MO_SCRIPT_WORDS_H

#define MO_SCRIPT_WORDS(X)				\
	X("read", OP_READ, 1, 1)			\
	X("write", OP_WRITE, 2, 2)			\
	X("expect", OP_EXPECT, 2, 2)			\
	X("add", OP_ADD, 2, 2)				\
	X("fill", OP_FILL, 3, 3)			\
	X("check", OP_CHECK, 3, 3)			\
	X("touch", OP_TOUCH, 2, 3)			\
	X("sleep", OP_SLEEP, 1, 1)			\
	X("echo", OP_ECHO, 0, -1)			\
	X("unmap", OP_UNMAP, 0, 0)			\
	X("map", OP_MAP, 0, 0)				\
	X("object", OP_OBJECT, 1, 1)			\
	X("expect-error", OP_EXPECT_ERROR, 1, 1)	\
	X("repeat", OP_REPEAT, 1, 1)			\
	X("end", OP_END, 0, 0)

/* The pieces each user builds its enum and its table from. */
#define MO_SCRIPT_ENUM(name, op, min, max) op,
#define MO_SCRIPT_ROW(name, op, min, max) { name, op, min, max },

#endif
