/*
 * guest/host/vm.c: starting and watching qemu (GNUMACH.md, "Boot").
 *
 * TCG only: KVM fails in this kernel's FPU code. The boot-script form of
 * -initrd ($(task-create) $(task-resume)) is required; the single-module
 * compat boot crashes this build. -no-reboot turns the agent's
 * host_reboot into qemu's exit.
 *
 * The shared memory is an ivshmem-doorbell device whose ivshmem server we
 * are ourselves (qemu docs/specs/ivshmem-spec.rst, "The ivshmem
 * Client-Server Protocol"): qemu connects to our socket, we hand it the
 * shm file, the host's eventfd as peer MO_BELL_HOST_ID and one for its own
 * vector. The guest's Doorbell writes then signal our eventfd: the host
 * sleeps on it instead of polling. The other way has no doorbell: qemu
 * delivers this device's interrupts through MSI-X only
 * (hw/misc/ivshmem.c, ivshmem_vector_notify), which GNU Mach 1.8 does
 * not set up.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sched.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "guest/host/vm.h"
#include "guest/ring.h"

/*
 * The guest's RAM. Below qemu's PCI hole (pc machine: 3.5 GiB and less
 * stays below 4 GiB), guest-physical addresses are offsets in its file.
 */
#define VM_RAM_MB 256
#define VM_RAM_MB_TEXT "256"

static int error(struct vm *vm, const char *fmt, const char *what)
{
	snprintf(vm->err, sizeof(vm->err), fmt, what, strerror(errno));
	return -1;
}

/* Is PROG runnable, either as a path or somewhere in $PATH? */
static int find_program(const char *prog)
{
	const char *path = getenv("PATH");
	char buf[4096];

	if (strchr(prog, '/'))
		return access(prog, X_OK);
	if (!path)
		path = "/usr/bin:/bin";
	while (*path) {
		size_t n = strcspn(path, ":");

		snprintf(buf, sizeof(buf), "%.*s/%s", (int)n, path, prog);
		if (access(buf, X_OK) == 0)
			return 0;
		path += n + (path[n] == ':');
	}
	return -1;
}

/* One message of the server protocol: an 8-byte number, maybe with FD. */
static int bell_send(int sock, int64_t v, int fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { &v, sizeof(v) };
	struct msghdr m = { 0 };

	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	if (fd >= 0) {
		struct cmsghdr *c;

		memset(cbuf, 0, sizeof(cbuf));
		m.msg_control = cbuf;
		m.msg_controllen = sizeof(cbuf);
		c = CMSG_FIRSTHDR(&m);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	return sendmsg(sock, &m, MSG_NOSIGNAL) == (ssize_t)sizeof(v) ? 0 : -1;
}

/*
 * Our ivshmem server's one client, qemu: version 0, its id, the shared
 * memory (-1 with the fd), the host as a peer with its eventfd, then the
 * guest's own vector (ivshmem-spec.rst, steps 1 to 5). qemu reads these
 * while it sets the device up, before the guest runs.
 */
static int bell_serve(struct vm *vm, int listener, int shm_fd)
{
	struct pollfd p = { listener, POLLIN, 0 };
	int i;

	for (i = 0; i < 300; i++) {
		if (poll(&p, 1, 100) == 1)
			break;
		if (waitpid(vm->pid, &vm->status, WNOHANG) == vm->pid) {
			vm->exited = 1;
			snprintf(vm->err, sizeof(vm->err),
				 "qemu exited (status 0x%x) before it connected to the doorbell (console: %s)",
				 vm->status, vm->console);
			return -1;
		}
	}
	if (i == 300) {
		snprintf(vm->err, sizeof(vm->err), "qemu did not connect to the doorbell socket in 30 s");
		return -1;
	}
	vm->bell_conn = accept(listener, NULL, NULL);
	if (vm->bell_conn < 0)
		return error(vm, "accept on %s: %s", vm->bell_path);
	if (bell_send(vm->bell_conn, 0, -1) < 0 ||
	    bell_send(vm->bell_conn, MO_BELL_GUEST_ID, -1) < 0 ||
	    bell_send(vm->bell_conn, -1, shm_fd) < 0 ||
	    bell_send(vm->bell_conn, MO_BELL_HOST_ID, vm->bell) < 0 ||
	    bell_send(vm->bell_conn, MO_BELL_GUEST_ID, vm->bell_guest) < 0)
		return error(vm, "the doorbell socket %s: %s", vm->bell_path);
	return 0;
}

/* A listening socket at PATH (DIR/NAME), or -1 with vm->err. */
static int sock_listen(struct vm *vm, char *path, size_t cap, const char *name)
{
	struct sockaddr_un a = { 0 };
	int fd;

	snprintf(path, cap, "%s/%s", vm->dir, name);
	if (strlen(path) >= sizeof(a.sun_path)) {
		snprintf(vm->err, sizeof(vm->err), "%s: too long for a socket", path);
		path[0] = 0;
		return -1;
	}
	a.sun_family = AF_UNIX;
	strcpy(a.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return error(vm, "socket for %s: %s", path);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 1) < 0) {
		close(fd);
		return error(vm, "%s: %s", path);
	}
	return fd;
}

/*
 * qemu's connection to the guest's second serial port: qemu connects
 * while it creates its character devices, before the guest runs, so it
 * waits in the listener's backlog.
 */
static int kick_accept(struct vm *vm, int listener)
{
	struct pollfd p = { listener, POLLIN, 0 };

	if (poll(&p, 1, 30000) != 1) {
		snprintf(vm->err, sizeof(vm->err), "qemu did not connect to the serial socket %s",
			 vm->kick_path);
		return -1;
	}
	vm->kick_conn = accept4(listener, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (vm->kick_conn < 0)
		return error(vm, "accept on %s: %s", vm->kick_path);
	return 0;
}

void vm_kick(struct vm *vm)
{
	static const char bytes[MO_KICK_BYTES];

	/*
	 * Nonblocking: a full socket already holds bytes the guest has not
	 * read, so it wakes anyway; a qemu that is gone raises no SIGPIPE
	 * (vm_check sees it exit).
	 */
	if (vm->kick_conn >= 0)
		(void)send(vm->kick_conn, bytes, sizeof(bytes), MSG_NOSIGNAL);
}

/* struct sched_attr (linux/sched/types.h), which glibc 2.36 does not declare. */
struct slice_attr {
	uint32_t size, policy;
	uint64_t flags;
	int32_t nice;
	uint32_t priority;
	uint64_t runtime, deadline, period;
	uint32_t util_min, util_max;
};

void vm_set_slice(uint64_t ns)
{
	struct slice_attr a;

	memset(&a, 0, sizeof(a));
	if (syscall(SYS_sched_getattr, 0, &a, sizeof(a), 0) != 0)
		return;
	if (a.policy != SCHED_OTHER || a.runtime == ns)
		return;
	a.size = sizeof(a);
	a.runtime = ns;
	(void)syscall(SYS_sched_setattr, 0, &a, 0);
}

void *vm_map_ram(struct vm *vm, uint64_t phys, size_t len)
{
	void *p;

	if (vm->ram_fd < 0 || vm->ram_map) {
		snprintf(vm->err, sizeof(vm->err), "the guest's RAM is not ours to map");
		return NULL;
	}
	if (len == 0 || phys % 4096 || len % 4096 ||
	    phys > ((uint64_t)VM_RAM_MB << 20) || len > ((uint64_t)VM_RAM_MB << 20) - phys) {
		snprintf(vm->err, sizeof(vm->err),
			 "guest memory at 0x%llx, 0x%zx bytes, is not within the guest's %u MiB",
			 (unsigned long long)phys, len, VM_RAM_MB);
		return NULL;
	}
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, vm->ram_fd, (off_t)phys);
	if (p == MAP_FAILED) {
		snprintf(vm->err, sizeof(vm->err), "mmap of the guest's RAM: %s", strerror(errno));
		return NULL;
	}
	vm->ram_map = p;
	vm->ram_map_len = len;
	return p;
}

/* qemu's TCG vCPU thread's stat file: the thread named "CPU 0/TCG". */
static int vcpu_open(struct vm *vm)
{
	char path[320], comm[32];
	struct dirent *e;
	DIR *d;
	int fd = -1;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)vm->pid);
	d = opendir(path);
	if (!d)
		return -1;
	while (fd < 0 && (e = readdir(d))) {
		int c;
		ssize_t n;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%s/comm", (int)vm->pid, e->d_name);
		c = open(path, O_RDONLY | O_CLOEXEC);
		if (c < 0)
			continue;
		n = read(c, comm, sizeof(comm) - 1);
		close(c);
		if (n <= 0 || strncmp(comm, "CPU 0/TCG", 9) != 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%s/stat", (int)vm->pid, e->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
	}
	closedir(d);
	return fd;
}

/* The CPU the thread of a stat file last ran on (proc(5), field 39), or -1. */
static int stat_cpu(int fd)
{
	char buf[1024], *p;
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	int field;

	if (n <= 0)
		return -1;
	buf[n] = 0;
	/* After the command's closing parenthesis, field 3 on. */
	p = strrchr(buf, ')');
	if (!p)
		return -1;
	for (field = 2; field < 39 && p; field++)
		p = strchr(p + 1, ' ');
	return p ? atoi(p + 1) : -1;
}

static void steer_all(const cpu_set_t *set)
{
	struct dirent *e;
	DIR *d = opendir("/proc/self/task");

	if (!d)
		return;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			(void)sched_setaffinity(atoi(e->d_name), sizeof(*set), set);
	closedir(d);
}

void vm_steer(struct vm *vm)
{
	cpu_set_t set;
	int cpu;

	if (!vm->steer_ok || vm->pid <= 0 || vm->exited)
		return;
	if (vm->vcpu_stat < 0 && (vm->vcpu_stat = vcpu_open(vm)) < 0)
		return;
	cpu = stat_cpu(vm->vcpu_stat);
	/* Now and then again, for threads started since. */
	if (cpu < 0 || (cpu == vm->vcpu_cpu && ++vm->steer_calls % 16))
		return;
	vm->vcpu_cpu = cpu;
	set = vm->cpus;
	CPU_CLR(cpu, &set);
	steer_all(CPU_COUNT(&set) ? &set : &vm->cpus);
}

int vm_wait_bell(struct vm *vm, int timeout_ms)
{
	struct pollfd p = { vm->bell, POLLIN, 0 };
	uint64_t v;

	if (poll(&p, 1, timeout_ms) != 1)
		return 0;
	/* Reads the count back to 0 (nonblocking: EAGAIN means none). */
	return read(vm->bell, &v, sizeof(v)) == (ssize_t)sizeof(v);
}

int vm_start(struct vm *vm, const struct vm_config *cfg,
	     void (*init_shm)(void *shm, void *ctx), void *ctx)
{
	char initrd[4096], chardev[200], kickdev[200], ramdev[200];
	const char *argv[40];
	int argc = 0, fd, con, nul, listener, kick_listener, rc;
	pid_t parent;

	memset(vm, 0, sizeof(*vm));
	vm->pid = -1;
	vm->bell = vm->bell_guest = vm->bell_conn = vm->kick_conn = -1;
	vm->ram_fd = -1;
	vm->vcpu_stat = vm->vcpu_cpu = -1;
	/* The CPUs we may use, before vm_steer narrows them. */
	vm->steer_ok = sched_getaffinity(0, sizeof(vm->cpus), &vm->cpus) == 0 &&
		       CPU_COUNT(&vm->cpus) >= 2;
	vm->console = cfg->console;
	if (find_program(cfg->qemu) < 0) {
		snprintf(vm->err, sizeof(vm->err),
			 "%s: not found (install qemu-system-x86)", cfg->qemu);
		return -1;
	}
	if (access(cfg->kernel, R_OK) < 0)
		return error(vm, "%s: %s (run make to prepare the kernel)", cfg->kernel);
	if (access(cfg->agent, R_OK) < 0)
		return error(vm, "%s: %s", cfg->agent);

	snprintf(vm->dir, sizeof(vm->dir), "%s/mo-gnumach.XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (strlen(vm->dir) > sizeof(vm->dir) - 24 || !mkdtemp(vm->dir))
		return error(vm, "%s: %s", vm->dir);
	snprintf(vm->shm_path, sizeof(vm->shm_path), "%s/shm", vm->dir);
	fd = open(vm->shm_path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return error(vm, "%s: %s", vm->shm_path);
	if (ftruncate(fd, MO_SHM_SIZE) < 0) {
		close(fd);
		return error(vm, "%s: %s", vm->shm_path);
	}
	vm->shm = mmap(NULL, MO_SHM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (vm->shm == MAP_FAILED) {
		vm->shm = NULL;
		close(fd);
		return error(vm, "mmap %s: %s", vm->shm_path);
	}
	/*
	 * The guest's RAM in a file of ours too, so that the host can write
	 * the agent's page pool (ring.h, MO_SHM_POOL). Without one, the
	 * host's data goes through the ring.
	 */
	if (cfg->share_ram) {
		vm->ram_fd = memfd_create("mo-gnumach-ram", MFD_CLOEXEC);
		if (vm->ram_fd >= 0 && ftruncate(vm->ram_fd, (off_t)VM_RAM_MB << 20) < 0) {
			close(vm->ram_fd);
			vm->ram_fd = -1;
		}
	}
	init_shm(vm->shm, ctx);
	if (vm->ram_fd >= 0)
		((struct mo_shm_header *)vm->shm)->flags |= MO_SHM_POOL;
	vm->bell = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	vm->bell_guest = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (vm->bell < 0 || vm->bell_guest < 0) {
		close(fd);
		return error(vm, "eventfd for the doorbell%s: %s", "");
	}
	listener = sock_listen(vm, vm->bell_path, sizeof(vm->bell_path), "bell");
	if (listener < 0) {
		close(fd);
		return -1;
	}
	kick_listener = sock_listen(vm, vm->kick_path, sizeof(vm->kick_path), "kick");
	if (kick_listener < 0) {
		close(fd);
		close(listener);
		return -1;
	}

	con = open(cfg->console, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (con < 0) {
		close(fd);
		close(listener);
		return error(vm, "%s: %s", cfg->console);
	}
	nul = open("/dev/null", O_RDONLY);

	snprintf(initrd, sizeof(initrd),
		 "%s ${host-port} ${device-port} %s $(task-create) $(task-resume)",
		 cfg->agent, cfg->agent_args);
	if (strchr(initrd, ',') || strchr(vm->bell_path, ',')) {
		close(con);
		close(fd);
		close(listener);
		close(kick_listener);
		snprintf(vm->err, sizeof(vm->err),
			 "agent arguments and TMPDIR may not contain ',' (qemu's separator)");
		return -1;
	}
	snprintf(chardev, sizeof(chardev), "socket,id=bell,path=%s", vm->bell_path);
	snprintf(kickdev, sizeof(kickdev), "socket,id=kick,path=%s", vm->kick_path);
	argv[argc++] = cfg->qemu;
	/* Its threads named, the vCPU's "CPU 0/TCG" (vm_steer). */
	argv[argc++] = "-name";
	argv[argc++] = "mo-gnumach,debug-threads=on";
	argv[argc++] = "-m";
	argv[argc++] = VM_RAM_MB_TEXT;
	if (vm->ram_fd >= 0) {
		/* qemu opens the memfd again through /proc (the child keeps it). */
		snprintf(ramdev, sizeof(ramdev),
			 "memory-backend-file,id=ram,size=%uM,mem-path=/proc/self/fd/%d,share=on",
			 VM_RAM_MB, vm->ram_fd);
		argv[argc++] = "-object";
		argv[argc++] = ramdev;
		argv[argc++] = "-machine";
		argv[argc++] = "memory-backend=ram";
	}
	argv[argc++] = "-accel";
	argv[argc++] = "tcg";
	argv[argc++] = "-kernel";
	argv[argc++] = cfg->kernel;
	argv[argc++] = "-append";
	argv[argc++] = "console=com0";
	argv[argc++] = "-initrd";
	argv[argc++] = initrd;
	argv[argc++] = "-display";
	argv[argc++] = "none";
	argv[argc++] = "-serial";
	argv[argc++] = "stdio";
	argv[argc++] = "-no-reboot";
	argv[argc++] = "-net";
	argv[argc++] = "none";
	argv[argc++] = "-monitor";
	argv[argc++] = "none";
	argv[argc++] = "-chardev";
	argv[argc++] = chardev;
	argv[argc++] = "-device";
	argv[argc++] = "ivshmem-doorbell,chardev=bell,vectors=1";
	/* The guest's doorbell: com1 (ring.h, MO_KICK_BYTES). */
	argv[argc++] = "-chardev";
	argv[argc++] = kickdev;
	argv[argc++] = "-serial";
	argv[argc++] = "chardev:kick";
	argv[argc] = NULL;

	parent = getpid();
	vm->pid = fork();
	if (vm->pid < 0) {
		close(con);
		close(fd);
		close(listener);
		close(kick_listener);
		return error(vm, "fork %s: %s", cfg->qemu);
	}
	if (vm->pid == 0) {
		dup2(nul, 0);
		dup2(con, 1);
		dup2(con, 2);
		setpgid(0, 0);
		if (vm->ram_fd >= 0)
			fcntl(vm->ram_fd, F_SETFD, 0);
		/* qemu keeps the default slice (vm_set_slice). */
		vm_set_slice(0);
		/* If mo-gnumach dies, even by SIGKILL, qemu must not live on. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);
		execvp(cfg->qemu, (char *const *)argv);
		fprintf(stderr, "mo-gnumach: exec %s: %s\n", cfg->qemu, strerror(errno));
		_exit(127);
	}
	close(con);
	if (nul >= 0)
		close(nul);
	rc = bell_serve(vm, listener, fd);
	if (rc == 0)
		rc = kick_accept(vm, kick_listener);
	close(listener);
	close(kick_listener);
	close(fd);
	return rc;
}

/* What on the console ends a run, and how to say it. */
static const struct {
	const char *text;
	const char *what;
} console_failures[] = {
	{ "panic", "kernel panic" },
	{ "Kernel Breakpoint", "the kernel entered its debugger" },
	{ "mo-agent: fatal: ", "the agent failed" },
};

/* Puts the console text from AT to the end of its line into vm->err. */
static void failure_line(struct vm *vm, const char *buf, const char *at,
			 const char *what)
{
	const char *s = at, *e = strchr(at, '\n');

	if (!e)
		e = at + strlen(at);
	snprintf(vm->err, sizeof(vm->err), "%s: %.*s (console: %s)", what,
		 (int)(e - s > 160 ? 160 : e - s), s, vm->console);
}

/* Waits up to a second for qemu to exit, so the console is complete. */
static void settle(struct vm *vm)
{
	int i;

	for (i = 0; i < 100 && !vm->exited && vm->pid > 0; i++) {
		struct timespec ts = { 0, 10000000 };

		if (waitpid(vm->pid, &vm->status, WNOHANG) == vm->pid)
			vm->exited = 1;
		else
			nanosleep(&ts, NULL);
	}
}

int vm_check(struct vm *vm)
{
	char buf[65536];
	ssize_t n;
	size_t i;
	int fd, again = 0;

	if (!vm->exited && vm->pid > 0 &&
	    waitpid(vm->pid, &vm->status, WNOHANG) == vm->pid)
		vm->exited = 1;
reread:
	fd = open(vm->console, O_RDONLY);
	if (fd >= 0) {
		/*
		 * The console stays small (the kernel's banner and our lines);
		 * should it grow, its end is where a failure shows.
		 */
		off_t size = lseek(fd, 0, SEEK_END);

		lseek(fd, size > (off_t)sizeof(buf) - 1 ? size - (off_t)sizeof(buf) + 1 : 0, SEEK_SET);
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		buf[n > 0 ? n : 0] = 0;
		for (i = 0; i < sizeof(console_failures) / sizeof(console_failures[0]); i++) {
			const char *at = strstr(buf, console_failures[i].text);

			if (!at)
				continue;
			if (!again++) {
				settle(vm);
				goto reread;
			}
			failure_line(vm, buf, at, console_failures[i].what);
			return -1;
		}
	}
	return vm->exited;
}

void vm_release(struct vm *vm)
{
	if (vm->pid > 0 && !vm->exited) {
		int i;

		kill(-vm->pid, SIGTERM);
		kill(vm->pid, SIGTERM);
		for (i = 0; i < 100; i++) {
			struct timespec ts = { 0, 10000000 };

			if (waitpid(vm->pid, &vm->status, WNOHANG) == vm->pid)
				break;
			nanosleep(&ts, NULL);
		}
		if (i == 100) {
			kill(vm->pid, SIGKILL);
			waitpid(vm->pid, &vm->status, 0);
		}
		vm->exited = 1;
	}
	if (vm->vcpu_stat >= 0)
		close(vm->vcpu_stat);
	vm->vcpu_stat = -1;
	if (vm->ram_map)
		munmap(vm->ram_map, vm->ram_map_len);
	vm->ram_map = NULL;
	if (vm->ram_fd >= 0)
		close(vm->ram_fd);
	vm->ram_fd = -1;
	if (vm->shm)
		munmap(vm->shm, MO_SHM_SIZE);
	vm->shm = NULL;
	if (vm->shm_path[0])
		unlink(vm->shm_path);
	if (vm->bell_path[0])
		unlink(vm->bell_path);
	if (vm->kick_path[0])
		unlink(vm->kick_path);
	if (vm->kick_conn >= 0)
		close(vm->kick_conn);
	vm->kick_conn = -1;
	vm->kick_path[0] = 0;
	if (vm->bell >= 0)
		close(vm->bell);
	if (vm->bell_guest >= 0)
		close(vm->bell_guest);
	if (vm->bell_conn >= 0)
		close(vm->bell_conn);
	vm->bell = vm->bell_guest = vm->bell_conn = -1;
	vm->bell_path[0] = 0;
	if (vm->dir[0])
		rmdir(vm->dir);
	vm->shm_path[0] = vm->dir[0] = 0;
}
