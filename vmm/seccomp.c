// SPDX-License-Identifier: Apache-2.0
/*
 * Seccomp allowlists, one per thread kind (docs/security.md), with
 * libseccomp. Each thread loads its own filter as its first act, and the
 * thread that starts others loads its own only after they run, so no thread
 * carries another kind's filter. What no kind may do: exec, fork, ptrace,
 * mount, change namespaces or credentials, load modules or BPF, open a
 * socket other than AF_UNIX, or map memory executable.
 *
 * A call outside the list does not run: the kernel sends SIGSYS, whose
 * handler names the call and the thread kind on stderr (or the fd given to
 * ign_seccomp_report_fd: the shim's log) and ends the
 * process with status 1. IGN_SECCOMP=log lets such calls run and has the
 * kernel log them instead (audit type 1326): the way to find a missing one.
 */
#include <errno.h>
#include <seccomp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ign/vmm.h"

/* Groups of calls; a kind is the union of some. */
enum {
	G_BASE = 1 << 0,     /* memory, threads' futexes, signals, time, fds, exit */
	G_EVENTS = 1 << 1,   /* epoll, eventfds: device activation and the event loop */
	G_DISK = 1 << 2,     /* positional I/O and syncs on open files */
	G_SOCK = 1 << 3,     /* talk on AF_UNIX sockets, and connect new ones */
	G_FILES = 1 << 4,    /* by-name file operations: 9p shares, snapshots, state */
	G_SERVE = 1 << 5,    /* listen on AF_UNIX sockets */
	G_SHIM = 1 << 6,     /* the shim's own: terminal ioctls, a session, signalfd, prctl */
};

static const int base_calls[] = {
	SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(readv), SCMP_SYS(writev), SCMP_SYS(close),
	SCMP_SYS(lseek), SCMP_SYS(fstat), SCMP_SYS(newfstatat), SCMP_SYS(fcntl), SCMP_SYS(dup),
	SCMP_SYS(poll), SCMP_SYS(ppoll), SCMP_SYS(pipe2),
	SCMP_SYS(munmap), SCMP_SYS(mremap), SCMP_SYS(madvise), SCMP_SYS(brk),
	SCMP_SYS(futex), SCMP_SYS(sched_yield), SCMP_SYS(rseq), SCMP_SYS(set_robust_list),
	SCMP_SYS(rt_sigreturn), SCMP_SYS(rt_sigprocmask), SCMP_SYS(rt_sigaction),
	SCMP_SYS(sigaltstack), SCMP_SYS(restart_syscall),
	SCMP_SYS(clock_gettime), SCMP_SYS(clock_nanosleep), SCMP_SYS(nanosleep),
	SCMP_SYS(gettimeofday), SCMP_SYS(getrandom),
	SCMP_SYS(getpid), SCMP_SYS(gettid), SCMP_SYS(getuid), SCMP_SYS(geteuid),
	SCMP_SYS(getgid), SCMP_SYS(getegid),
	SCMP_SYS(exit), SCMP_SYS(exit_group),
};
static const int event_calls[] = {
	SCMP_SYS(epoll_ctl), SCMP_SYS(epoll_wait), SCMP_SYS(epoll_pwait), SCMP_SYS(eventfd2),
	SCMP_SYS(epoll_create1),
};
static const int disk_calls[] = {
	SCMP_SYS(pread64), SCMP_SYS(pwrite64), SCMP_SYS(preadv), SCMP_SYS(pwritev),
	SCMP_SYS(fsync), SCMP_SYS(fdatasync), SCMP_SYS(ftruncate), SCMP_SYS(fallocate),
	SCMP_SYS(fstatfs),
	SCMP_SYS(mincore),   /* a snapshot writes the guest pages that are resident */
};
static const int sock_calls[] = {
	SCMP_SYS(connect), SCMP_SYS(accept4), SCMP_SYS(sendmsg), SCMP_SYS(recvmsg),
	SCMP_SYS(sendto), SCMP_SYS(recvfrom), SCMP_SYS(shutdown), SCMP_SYS(getsockopt),
	SCMP_SYS(setsockopt), SCMP_SYS(getsockname), SCMP_SYS(getpeername),
};
static const int file_calls[] = {
	SCMP_SYS(open), SCMP_SYS(openat), SCMP_SYS(mkdir), SCMP_SYS(mkdirat), SCMP_SYS(unlink),
	SCMP_SYS(unlinkat), SCMP_SYS(rmdir), SCMP_SYS(rename), SCMP_SYS(renameat),
	SCMP_SYS(renameat2), SCMP_SYS(linkat), SCMP_SYS(symlinkat), SCMP_SYS(readlink),
	SCMP_SYS(readlinkat), SCMP_SYS(fchownat), SCMP_SYS(fchown), SCMP_SYS(fchmodat),
	SCMP_SYS(fchmod), SCMP_SYS(utimensat), SCMP_SYS(mknodat), SCMP_SYS(getdents64),
	SCMP_SYS(stat), SCMP_SYS(lstat), SCMP_SYS(statx), SCMP_SYS(statfs), SCMP_SYS(access),
	SCMP_SYS(faccessat), SCMP_SYS(faccessat2), SCMP_SYS(getcwd), SCMP_SYS(umask),
};
static const int serve_calls[] = { SCMP_SYS(bind), SCMP_SYS(listen) };
static const int shim_calls[] = { SCMP_SYS(setsid), SCMP_SYS(signalfd4) };

#define CALLS(a) a, sizeof(a) / sizeof(a[0])
static const struct {
	unsigned group;
	const int *calls;
	size_t n;
} group_calls[] = {
	{ G_BASE, CALLS(base_calls) }, { G_EVENTS, CALLS(event_calls) },
	{ G_DISK, CALLS(disk_calls) }, { G_SOCK, CALLS(sock_calls) },
	{ G_FILES, CALLS(file_calls) }, { G_SERVE, CALLS(serve_calls) },
	{ G_SHIM, CALLS(shim_calls) },
};

static const struct {
	const char *name;
	unsigned groups;
} kinds[IGN_THREAD_KINDS] = {
	[IGN_THREAD_VCPU] = { "vcpu", G_BASE | G_EVENTS | G_SOCK },
	[IGN_THREAD_IO] = { "io", G_BASE | G_EVENTS | G_DISK | G_SOCK | G_FILES },
	[IGN_THREAD_CONSOLE] = { "console", G_BASE },
	[IGN_THREAD_CONTROL] = { "control", G_BASE | G_EVENTS | G_DISK | G_SOCK | G_FILES },
	[IGN_THREAD_SHIM] = { "shim", G_BASE | G_EVENTS | G_DISK | G_SOCK | G_FILES | G_SERVE |
					G_SHIM },
};

static __thread const char *my_kind = "unfiltered";
static int report_fd = STDERR_FILENO;

void ign_seccomp_report_fd(int fd)
{
	report_fd = fd;
}

const char *ign_thread_kind_name(enum ign_thread_kind kind)
{
	return kind < IGN_THREAD_KINDS ? kinds[kind].name : "?";
}

static void put_num(char **p, unsigned long v)
{
	char d[24];
	int n = 0;

	do
		d[n++] = '0' + v % 10;
	while ((v /= 10));
	while (n)
		*(*p)++ = d[--n];
}

static void put_str(char **p, const char *s)
{
	while (*s)
		*(*p)++ = *s++;
}

/* Async-signal-safe: builds the line by hand, one write, then ends the process. */
static void on_sigsys(int sig, siginfo_t *si, void *uc)
{
	char line[256], *p = line;

	(void)sig, (void)uc;
	put_str(&p, program_invocation_short_name);
	put_str(&p, ": seccomp: the ");
	put_str(&p, my_kind);
	put_str(&p, " thread made system call ");
	put_num(&p, (unsigned)si->si_syscall);
	put_str(&p, ", which its allowlist does not have; stopping (docs/security.md)\n");
	if (write(report_fd, line, p - line) < 0) {
		/* nothing more to do: the process ends either way */
	}
	syscall(SYS_exit_group, 1);
}

int ign_seccomp_mode_from_env(enum ign_seccomp_mode *out, struct ign_err *err)
{
	const char *v = getenv("IGN_SECCOMP");

	if (!v || !*v || !strcmp(v, "enforce"))
		*out = IGN_SECCOMP_ENFORCE;
	else if (!strcmp(v, "log"))
		*out = IGN_SECCOMP_LOG;
	else if (!strcmp(v, "off"))
		*out = IGN_SECCOMP_OFF;
	else
		return ign_err_setx(err, EINVAL, "IGN_SECCOMP=`%s`: must be enforce, log or off", v);
	return 0;
}

/* The calls with arguments checked: no executable memory, AF_UNIX only, ioctls by type. */
static int allow_checked(scmp_filter_ctx ctx, unsigned groups)
{
	int r;

	if ((r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1,
				  SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0))) < 0 ||
	    (r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1,
				  SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0))) < 0)
		return r;
	/* pthread_kill and raise: only this process's threads */
	if ((r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(tgkill), 1,
				  SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)getpid()))) < 0)
		return r;
	/* KVM's ioctls (type 0xAE); tun and terminal ones (type 'T') where a kind needs them */
	if ((r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
				  SCMP_A1(SCMP_CMP_MASKED_EQ, 0xff00, 0xae00))) < 0)
		return r;
	if ((groups & G_SHIM) &&
	    (r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
				  SCMP_A1(SCMP_CMP_MASKED_EQ, 0xff00, 0x5400))) < 0)
		return r;
	/* the shim clears the parent-death signal `create` set, once it is ready */
	if ((groups & G_SHIM) &&
	    (r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prctl), 1,
				  SCMP_A0(SCMP_CMP_EQ, PR_SET_PDEATHSIG))) < 0)
		return r;
	if ((groups & G_SOCK) &&
	    (r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
				  SCMP_A0(SCMP_CMP_EQ, AF_UNIX))) < 0)
		return r;
	return 0;
}

static void ctx_cleanup(scmp_filter_ctx *c)
{
	if (*c)
		seccomp_release(*c);
}

int ign_seccomp_apply(enum ign_seccomp_mode mode, enum ign_thread_kind kind, struct ign_err *err)
{
	if (mode == IGN_SECCOMP_OFF)
		return 0;
	if (kind >= IGN_THREAD_KINDS)
		return ign_err_setx(err, EINVAL, "seccomp: no thread kind %d", kind);
	if (mode == IGN_SECCOMP_ENFORCE) {
		struct sigaction sa = { .sa_sigaction = on_sigsys, .sa_flags = SA_SIGINFO };
		sigemptyset(&sa.sa_mask);
		if (sigaction(SIGSYS, &sa, NULL) < 0)
			return ign_err_set(err, errno, "seccomp: SIGSYS handler");
	}
	__attribute__((cleanup(ctx_cleanup))) scmp_filter_ctx ctx =
		seccomp_init(mode == IGN_SECCOMP_LOG ? SCMP_ACT_LOG : SCMP_ACT_TRAP);
	unsigned g = kinds[kind].groups;
	int r = ctx ? 0 : -ENOMEM;

	for (size_t i = 0; r == 0 && i < sizeof(group_calls) / sizeof(group_calls[0]); i++)
		for (size_t j = 0; r == 0 && (g & group_calls[i].group) && j < group_calls[i].n; j++)
			r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, group_calls[i].calls[j], 0);
	if (r == 0)
		r = allow_checked(ctx, g);
	if (r == 0)
		r = seccomp_load(ctx);
	if (r < 0)
		return ign_err_set(err, -r, "seccomp: load the %s thread's filter", kinds[kind].name);
	my_kind = kinds[kind].name;
	return 0;
}
