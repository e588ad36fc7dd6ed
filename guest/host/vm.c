/*
 * guest/host/vm.c: starting and watching qemu (GNUMACH.md, "Boot").
 *
 * TCG only: KVM fails in this kernel's FPU code. The boot-script form of
 * -initrd ($(task-create) $(task-resume)) is required; the single-module
 * compat boot crashes this build. -no-reboot turns the agent's
 * host_reboot into qemu's exit.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "guest/host/vm.h"
#include "guest/ring.h"

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

int vm_start(struct vm *vm, const struct vm_config *cfg,
	     void (*init_shm)(void *shm, void *ctx), void *ctx)
{
	char initrd[4096], object[256];
	const char *argv[32];
	int argc = 0, fd, con, nul;
	pid_t parent;

	memset(vm, 0, sizeof(*vm));
	vm->pid = -1;
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
	fd = open(vm->shm_path, O_RDWR | O_CREAT | O_EXCL, 0600);
	if (fd < 0)
		return error(vm, "%s: %s", vm->shm_path);
	if (ftruncate(fd, MO_SHM_SIZE) < 0) {
		close(fd);
		return error(vm, "%s: %s", vm->shm_path);
	}
	vm->shm = mmap(NULL, MO_SHM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (vm->shm == MAP_FAILED) {
		vm->shm = NULL;
		return error(vm, "mmap %s: %s", vm->shm_path);
	}
	init_shm(vm->shm, ctx);

	con = open(cfg->console, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (con < 0)
		return error(vm, "%s: %s", cfg->console);
	nul = open("/dev/null", O_RDONLY);

	snprintf(initrd, sizeof(initrd),
		 "%s ${host-port} ${device-port} %s $(task-create) $(task-resume)",
		 cfg->agent, cfg->agent_args);
	if (strchr(initrd, ',')) {
		close(con);
		snprintf(vm->err, sizeof(vm->err),
			 "agent arguments may not contain ',' (qemu's module separator)");
		return -1;
	}
	snprintf(object, sizeof(object),
		 "memory-backend-file,id=hm,share=on,mem-path=%s,size=%u",
		 vm->shm_path, MO_SHM_SIZE);
	argv[argc++] = cfg->qemu;
	argv[argc++] = "-m";
	argv[argc++] = "256";
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
	argv[argc++] = "-object";
	argv[argc++] = object;
	argv[argc++] = "-device";
	argv[argc++] = "ivshmem-plain,memdev=hm";
	argv[argc] = NULL;

	parent = getpid();
	vm->pid = fork();
	if (vm->pid < 0) {
		close(con);
		return error(vm, "fork %s: %s", cfg->qemu);
	}
	if (vm->pid == 0) {
		dup2(nul, 0);
		dup2(con, 1);
		dup2(con, 2);
		setpgid(0, 0);
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
	return 0;
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
	if (vm->shm)
		munmap(vm->shm, MO_SHM_SIZE);
	vm->shm = NULL;
	if (vm->shm_path[0])
		unlink(vm->shm_path);
	if (vm->dir[0])
		rmdir(vm->dir);
	vm->shm_path[0] = vm->dir[0] = 0;
}
