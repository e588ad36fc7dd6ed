/*
 * guest/host/vm.h: one qemu running the prepared GNU Mach kernel and the
 * agent, with the ivshmem file the relay rings live in.
 */
#ifndef MO_GUEST_VM_H
#define MO_GUEST_VM_H

#include <sched.h>
#include <stdint.h>
#include <sys/types.h>

struct vm_config {
	const char *qemu;	/* program name or path */
	const char *kernel;	/* guest/prepare-kernel output */
	const char *agent;	/* the agent's ELF32 */
	const char *console;	/* where the serial console goes */
	const char *agent_args;	/* after the two port arguments */
	int share_ram;		/* the guest's RAM in a file we hold (vm_map_ram) */
};

struct vm {
	pid_t pid;
	char dir[128];		/* private folder holding the shm file */
	char shm_path[160];
	void *shm;
	const char *console;
	char bell_path[160];	/* our ivshmem server's socket */
	int bell;		/* eventfd: the guest rang (ring.h, doorbell) */
	int bell_guest;		/* eventfd for the guest's vector: never signalled */
	int bell_conn;		/* qemu's connection to our server */
	char kick_path[160];	/* the guest's second serial port, a socket */
	int kick_conn;		/* qemu's connection to it */
	int ram_fd;		/* the guest's RAM (share_ram), or -1 */
	void *ram_map;		/* what vm_map_ram mapped of it */
	size_t ram_map_len;
	/* vm_steer: qemu's vCPU thread, where it ran, our CPUs at the start. */
	int vcpu_stat;		/* its /proc stat file, or -1 */
	int vcpu_cpu;		/* -1: not known */
	int steer_ok;		/* two CPUs or more in CPUS */
	unsigned long steer_calls;
	cpu_set_t cpus;
	int exited;		/* qemu is gone; STATUS is its wait status */
	int status;
	char err[256];
};

/*
 * The calling thread's scheduler slice, NS nanoseconds (0: the default),
 * for the threads it starts too (sched_setattr's sched_runtime, which
 * Linux's EEVDF scheduler takes as the slice since 6.12; an older kernel
 * ignores it). A woken thread with a shorter slice than the one running
 * takes the CPU at once instead of waiting for that one's slice to end.
 * mo-gnumach's threads, woken by the guest's doorbell and the pager's
 * answers, take 100 us; qemu keeps the default. Best effort: nothing is
 * said if the kernel refuses.
 */
void vm_set_slice(uint64_t ns);

/*
 * Creates the shared memory (initialised by INIT_SHM before the guest can
 * see it) and starts qemu. Returns 0, or -1 with vm->err.
 */
int vm_start(struct vm *vm, const struct vm_config *cfg,
	     void (*init_shm)(void *shm, void *ctx), void *ctx);
/*
 * Looks at the guest: 0 while it runs, 1 once qemu has exited, -1 with
 * vm->err when the console shows a kernel panic or an agent failure.
 */
int vm_check(struct vm *vm);
/*
 * Waits up to TIMEOUT_MS for the guest's doorbell; 1 when it rang, 0 on
 * the timeout.
 */
int vm_wait_bell(struct vm *vm, int timeout_ms);
/*
 * Maps LEN bytes of the guest's RAM from guest-physical address PHYS
 * (share_ram; one mapping a run, which vm_release undoes). Returns it,
 * or NULL with vm->err.
 */
void *vm_map_ram(struct vm *vm, uint64_t phys, size_t len);
/*
 * Keeps this process's threads off the CPU where qemu's vCPU thread last
 * ran, among the CPUs the process may use (two or more): called every few
 * milliseconds, it follows the vCPU when it moves. A fault the host
 * serves then runs beside the vCPU instead of taking its CPU from it.
 */
void vm_steer(struct vm *vm);
/* Rings the guest: MO_KICK_BYTES bytes into its serial port (ring.h). */
void vm_kick(struct vm *vm);
/* Stops qemu if it still runs and removes the shm file. */
void vm_release(struct vm *vm);

#endif
