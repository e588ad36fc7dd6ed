/*
 * guest/agent/rt.h: the agent's own minimal runtime on GNU Mach.
 *
 * No libc: the traps of start.S, mach_msg with the user32 size rules, the
 * few RPCs the agent needs (encoded with the structs guest/gen-msg32.awk
 * derives from MIG), a console, threads and a lock.
 */
#ifndef MO_AGENT_RT_H
#define MO_AGENT_RT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

typedef uint32_t port_t;
typedef int kr_t;

/* mach/message.h, mach/port.h, mach/vm_prot.h, mach/vm_inherit.h */
#define MACH_SEND_MSG		0x00000001
#define MACH_RCV_MSG		0x00000002
#define MACH_SEND_TIMEOUT	0x00000010
#define MACH_RCV_TIMEOUT	0x00000100
#define MACH_RCV_TOO_LARGE	0x10004004
#define MACH_RCV_TIMED_OUT	0x10004003
#define MACH_MSGH_BITS_COMPLEX	0x80000000u
#define MACH_PORT_RIGHT_RECEIVE	1
#define MACH_MSG_TYPE_MAKE_SEND	20
#define MACH_MSG_TYPE_MAKE_SEND_ONCE 21
#define VM_PROT_READ		1
#define VM_PROT_WRITE		2
#define VM_INHERIT_NONE		2
#define PAGE_SIZE		4096u

/* The traps (start.S). Addresses of vm_map and vm_allocate are 8-byte cells. */
kr_t mach_msg_trap(void *msg, uint32_t option, uint32_t send_size,
		   uint32_t rcv_size, port_t rcv_name, uint32_t timeout,
		   port_t notify);
port_t mach_reply_port(void);
port_t mach_thread_self(void);
port_t mach_task_self(void);
int swtch_pri(int pri);
kr_t syscall_vm_map(port_t task, uint64_t *addr, uint32_t size,
		    uint32_t mask, int anywhere, port_t object,
		    uint32_t offset, int copy, int cur, int max, int inherit);
kr_t syscall_vm_allocate(port_t task, uint64_t *addr, uint32_t size,
			 int anywhere);
kr_t syscall_vm_deallocate(port_t task, uint32_t addr, uint32_t size);
kr_t syscall_mach_port_allocate(port_t task, int right, port_t *name);
kr_t syscall_mach_port_deallocate(port_t task, port_t name);
kr_t syscall_mach_port_insert_right(port_t task, port_t name, port_t right,
				    int type);

/* The ports the kernel gave us (argv) and our own. */
extern port_t rt_host_priv, rt_device_master, rt_task;

void *memcpy(void *d, const void *s, size_t n);
void *memset(void *d, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
/* Parses a decimal or 0x number; returns -1 when S is not one. */
int rt_number(const char *s, uint32_t *v);

/*
 * Sends a message of USER_SIZE bytes (the kernel wants 8 more, and the
 * buffer must have them) and receives the reply into the same buffer of
 * BUF_SIZE bytes on REPLY. Returns the mach_msg result.
 */
kr_t rt_rpc(void *msg, uint32_t user_size, uint32_t buf_size, port_t reply);
/* Sends only (no reply), with the same size rule. */
kr_t rt_send(void *msg, uint32_t user_size);

/* The console (device "console" in the kernel's device master). */
void rt_console_open(void);
/* Formats into BUF (CAP bytes, NUL-terminated); returns the length. */
uint32_t rt_snprintf(char *buf, uint32_t cap, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
uint32_t rt_vsnprintf(char *buf, uint32_t cap, const char *fmt, va_list ap);
void rt_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Sleeps MS milliseconds (a receive that times out). */
void rt_sleep_ms(uint32_t ms);
/* Prints, then reboots the guest so that qemu exits; never returns. */
void rt_fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
/* Ends the run: host_reboot(host_priv, 0); with -no-reboot qemu exits. */
void rt_reboot(void) __attribute__((noreturn));

/* Stops the calling thread for good (it blocks; it does not spin). */
void rt_park(void) __attribute__((noreturn));

kr_t rt_vm_allocate(uint32_t *addr, uint32_t size);

/* Starts a thread running FN(ARG) on a fresh stack. */
kr_t rt_thread_start(void (*fn)(void *), void *arg);
/* The same, the new thread's port in *PORT. */
kr_t rt_thread_start_port(void (*fn)(void *), void *arg, port_t *port);
/* thread_info's run_state (mach/thread_info.h: TH_STATE_*). */
#define RT_TH_STATE_WAITING 3
#define RT_TH_STATE_UNINTERRUPTIBLE 4
kr_t rt_thread_run_state(port_t thread, uint32_t *state);
kr_t rt_vm_wire(uint32_t addr, uint32_t size, int access);
/* Wired, physically contiguous memory (gnumach.defs); host_priv. */
kr_t rt_vm_allocate_contiguous(uint32_t size, uint32_t *addr, uint64_t *phys);
#define MACH_PORT_RIGHT_PORT_SET 3
kr_t rt_port_move_member(port_t member, port_t after);
kr_t rt_port_destroy(port_t name);

/* i386_THREAD_STATE: 17 words (gs fs es ds edi esi ebp esp ebx edx ecx eax
 * eip cs efl uesp ss), mach/i386/thread_status.h. */
#define RT_STATE_COUNT 17
enum { RT_STATE_EAX = 11, RT_STATE_EIP = 12, RT_STATE_UESP = 15 };
kr_t rt_thread_get_state(port_t thread, uint32_t state[RT_STATE_COUNT]);
kr_t rt_thread_set_state(port_t thread, const uint32_t state[RT_STATE_COUNT]);
/* task_set_special_port on our task (mach/task_special_ports.h). */
kr_t rt_task_set_special_port(int which, port_t port);

/* A spin lock that yields the processor while it waits. */
struct rt_lock { volatile uint32_t held; };
void rt_lock(struct rt_lock *l);
void rt_unlock(struct rt_lock *l);

/* One reply port per thread, made on first use. */
port_t rt_reply_port(void);

/* Device RPCs (device.defs) and I/O permission (mach_i386.defs). */
kr_t rt_device_open(const char *name, int mode, port_t *dev);
kr_t rt_device_set_status(port_t dev, uint32_t flavor, const uint32_t *status,
			  uint32_t count);
kr_t rt_device_read_request(port_t dev, uint32_t bytes, port_t reply);
kr_t rt_device_map(port_t dev, int prot, uint32_t offset, uint32_t size,
		   port_t *pager);
kr_t rt_io_perm(uint16_t from, uint16_t to);

#endif
