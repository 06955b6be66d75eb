// SPDX-License-Identifier: Apache-2.0
/*
 * The seccomp allowlists (vmm/seccomp.c), enforced for real: each case forks
 * a child that loads one thread kind's filter and then makes calls; what is
 * refused must end the child with status 1 and a message naming the call and
 * the kind, what is allowed must work. (Only the child is filtered: the test
 * runner itself needs calls no kind allows.)
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "ign/vmm.h"

/* Runs fn in a child under kind's filter; returns its wait status, its report in msg. */
static int in_child(enum ign_seccomp_mode mode, enum ign_thread_kind kind, int (*fn)(void),
		    char *msg, size_t len)
{
	int p[2], status;

	cr_assert_eq(pipe(p), 0);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		struct ign_err err;
		close(p[0]);
		ign_seccomp_report_fd(p[1]);
		if (ign_seccomp_apply(mode, kind, &err) < 0) {
			dprintf(p[1], "apply: %s", err.msg);
			_exit(99);
		}
		_exit(fn());
	}
	close(p[1]);
	ssize_t n = read(p[0], msg, len - 1);
	msg[n > 0 ? n : 0] = 0;
	close(p[0]);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	return status;
}

static void refused(enum ign_thread_kind kind, int (*fn)(void), int nr)
{
	char msg[512], want[64];
	int st = in_child(IGN_SECCOMP_ENFORCE, kind, fn, msg, sizeof(msg));

	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 1, "%s: status %#x, report `%s`",
		  ign_thread_kind_name(kind), st, msg);
	snprintf(want, sizeof(want), "the %s thread made system call %d,",
		 ign_thread_kind_name(kind), nr);
	cr_assert(strstr(msg, want), "want `%s` in `%s`", want, msg);
}

static void allowed(enum ign_thread_kind kind, int (*fn)(void))
{
	char msg[512];
	int st = in_child(IGN_SECCOMP_ENFORCE, kind, fn, msg, sizeof(msg));

	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 42, "%s: status %#x, report `%s`",
		  ign_thread_kind_name(kind), st, msg);
}

static int do_execve(void)
{
	char *argv[] = { "true", NULL };
	syscall(SYS_execve, "/bin/true", argv, environ);
	return 42;
}
static int do_fork(void) { return syscall(SYS_fork) >= 0 ? 42 : 43; }
static int do_inet(void) { return syscall(SYS_socket, AF_INET, SOCK_STREAM, 0) >= 0 ? 42 : 43; }
static int do_unix(void) { return socket(AF_UNIX, SOCK_STREAM, 0) >= 0 ? 42 : 43; }
static int do_exec_map(void)
{
	return syscall(SYS_mmap, NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1,
		       0) != -1 ? 42 : 43;
}
static int do_rw_map(void)
{
	char *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return m != MAP_FAILED && (m[0] = 1) && munmap(m, 4096) == 0 ? 42 : 43;
}
static int do_open(void) { return syscall(SYS_openat, AT_FDCWD, "/", O_RDONLY) >= 0 ? 42 : 43; }
static int do_tty_ioctl(void)
{
	struct termios t;
	syscall(SYS_ioctl, 0, TCGETS, &t);  /* ENOTTY is fine: the call was let through */
	return 42;
}
static int do_kvm_ioctl(void)
{
	/* a KVM ioctl on a non-KVM fd: let through by the filter, refused by the kernel */
	return syscall(SYS_ioctl, 0, KVM_GET_API_VERSION, 0) < 0 ? 42 : 43;
}
static int do_ptrace(void) { syscall(SYS_ptrace, 0, 0, 0, 0); return 42; }
static int do_unshare(void) { syscall(SYS_unshare, 0); return 42; }
static int do_kill_other(void) { syscall(SYS_tgkill, 1, 1, 0); return 42; }

Test(seccomp, no_kind_may_exec_fork_or_leave_af_unix)
{
	for (int k = 0; k < IGN_THREAD_KINDS; k++) {
		refused(k, do_execve, SYS_execve);
		refused(k, do_fork, SYS_fork);
		refused(k, do_inet, SYS_socket);
		refused(k, do_ptrace, SYS_ptrace);
		refused(k, do_unshare, SYS_unshare);
		refused(k, do_kill_other, SYS_tgkill);
	}
}

Test(seccomp, memory_is_never_mapped_executable)
{
	for (int k = 0; k < IGN_THREAD_KINDS; k++) {
		refused(k, do_exec_map, SYS_mmap);
		allowed(k, do_rw_map);
	}
}

Test(seccomp, each_kind_gets_only_its_calls)
{
	/* vCPUs and the console reader open nothing by name; the I/O thread (9p) does */
	refused(IGN_THREAD_VCPU, do_open, SYS_openat);
	refused(IGN_THREAD_CONSOLE, do_open, SYS_openat);
	allowed(IGN_THREAD_IO, do_open);
	allowed(IGN_THREAD_CONTROL, do_open);
	/* AF_UNIX sockets: vsock's host side, not the console reader */
	allowed(IGN_THREAD_IO, do_unix);
	refused(IGN_THREAD_CONSOLE, do_unix, SYS_socket);
	/* ioctls: KVM's everywhere, terminal ones only in the shim */
	for (int k = 0; k < IGN_THREAD_KINDS; k++)
		allowed(k, do_kvm_ioctl);
	refused(IGN_THREAD_VCPU, do_tty_ioctl, SYS_ioctl);
	refused(IGN_THREAD_IO, do_tty_ioctl, SYS_ioctl);
	allowed(IGN_THREAD_SHIM, do_tty_ioctl);
}

static int do_getppid(void) { return syscall(SYS_getppid) > 0 ? 42 : 43; }

Test(seccomp, log_mode_lets_calls_run_and_off_loads_nothing)
{
	char msg[512];
	int st = in_child(IGN_SECCOMP_LOG, IGN_THREAD_VCPU, do_getppid, msg, sizeof(msg));
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 42, "status %#x `%s`", st, msg);
	st = in_child(IGN_SECCOMP_OFF, IGN_THREAD_VCPU, do_execve, msg, sizeof(msg));
	/* not filtered: execve ran /bin/true, which exits 0 */
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %#x `%s`", st, msg);
	st = in_child(IGN_SECCOMP_ENFORCE, IGN_THREAD_VCPU, do_getppid, msg, sizeof(msg));
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 1, "status %#x `%s`", st, msg);
}

static int go_fd;

static int wait_for_parent(void)
{
	char c;
	return read(go_fd, &c, 1) >= 0 ? 42 : 43;
}

/* Seccomp mode and filter count of pid (0: self) from /proc. */
static void seccomp_status(pid_t pid, int *mode, int *filters)
{
	char path[64], line[256];

	snprintf(path, sizeof(path), "/proc/%d/status", pid ? (int)pid : (int)getpid());
	FILE *f = fopen(path, "r");
	cr_assert_not_null(f);
	*mode = *filters = -1;
	while (fgets(line, sizeof(line), f)) {
		sscanf(line, "Seccomp: %d", mode);
		sscanf(line, "Seccomp_filters: %d", filters);
	}
	fclose(f);
}

Test(seccomp, the_kernel_reports_one_filter_more_in_filter_mode)
{
	int go[2], ready[2], mode, filters, mine, outer, st;
	char c;

	/* the test may itself run under a filter (a container's): count from there */
	seccomp_status(0, &outer, &mine);
	cr_assert_eq(pipe(go), 0);
	cr_assert_eq(pipe(ready), 0);
	go_fd = go[0];
	pid_t pid = fork();
	if (pid == 0) {
		struct ign_err err;
		close(go[1]);
		if (ign_seccomp_apply(IGN_SECCOMP_ENFORCE, IGN_THREAD_IO, &err) < 0 ||
		    write(ready[1], "r", 1) != 1)
			_exit(99);
		_exit(wait_for_parent());
	}
	cr_assert_eq(read(ready[0], &c, 1), 1);  /* its filter is loaded */
	seccomp_status(pid, &mode, &filters);
	close(go[1]);
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert_eq(mode, 2, "Seccomp: %d", mode);
	cr_assert_eq(filters, mine + 1, "Seccomp_filters: %d, the test's own %d", filters, mine);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 42);
}
