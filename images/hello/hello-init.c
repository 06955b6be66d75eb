// SPDX-License-Identifier: Apache-2.0
/*
 * The test guest's /init (PID 1 of a tiny initramfs): says hello on the
 * console, writes the boot marker, then does what `ign.test=` on the kernel
 * command line asks and ends the VM:
 *   hello (default)  exit with the status given by ign.exit=N (default 0)
 *   cpus             print the number of online CPUs, then as hello
 *   echo             read one line from the console and print it back
 *   reboot           reboot(2): the VMM must end with status 0
 *   poweroff         power off: the VMM must end with status 0
 *   memtest          write, then check, a pattern over ign.mem=MiB of memory
 *   count            ign.rounds= rounds over ign.mem=MiB: each rewrites every
 *                    word from its last value, sleeps 20 ms (timers), and
 *                    prints the round's checksum: a VM restored from a
 *                    snapshot taken mid-way must print what the original does;
 *                    ign.mark_at=R1,R2... writes the boot marker again after
 *                    those rounds (snapshots of clones, at the VMM's first);
 *                    ign.tag=console: first reads a number from the console
 *                    that seeds the pattern (clones of one snapshot each
 *                    write their own), and at the end checks every word
 *                    against the pattern recomputed (IGN_COUNT_CHECK ok: no
 *                    other VM's writes showed through)
 *   sh               read one line from the console and run it with
 *                    /bin/busybox sh -c (tools.cpio.gz only); its status is ours
 * ign.touch=MiB (any test): write that much memory before the marker, and
 * keep it, so that a snapshot there holds that working set.
 * Static, no libc beyond what glibc's static link pulls in.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/io.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define PORT_EXIT 0x501
#define PORT_BOOT_MARKER 0x3f0
#define BOOT_MARKER 123

static char cmdline[4096];

static const char *param(const char *name, const char *dflt)
{
	static char val[256];
	size_t n = strlen(name);

	for (char *p = cmdline; (p = strstr(p, name)); p += n) {
		if ((p == cmdline || p[-1] == ' ') && p[n] == '=') {
			size_t len = strcspn(p + n + 1, " \n");
			if (len >= sizeof(val))
				len = sizeof(val) - 1;
			memcpy(val, p + n + 1, len);
			val[len] = '\0';
			return val;
		}
	}
	return dflt;
}

/* The console transmits in the background: wait until it has sent everything. */
static void drain(void)
{
	fflush(stdout);
	tcdrain(STDOUT_FILENO);
}

static void vm_exit(int status)
{
	drain();
	if (ioperm(PORT_EXIT, 1, 1) == 0)
		outb(status, PORT_EXIT);
	reboot(RB_AUTOBOOT);  /* only reached if the exit port did nothing */
	for (;;)
		pause();
}

static int online_cpus(void)
{
	char buf[64] = "";
	int fd = open("/sys/devices/system/cpu/online", O_RDONLY);
	int lo, hi;

	if (fd < 0 || read(fd, buf, sizeof(buf) - 1) < 0)
		return -1;
	close(fd);
	if (sscanf(buf, "%d-%d", &lo, &hi) == 2)
		return hi - lo + 1;
	return 1;
}

static int memtest(unsigned long mib)
{
	size_t len = mib << 20;
	unsigned long *p = malloc(len);

	if (!p)
		return 1;
	for (size_t i = 0; i < len / sizeof(*p); i++)
		p[i] = i * 2654435761UL;
	for (size_t i = 0; i < len / sizeof(*p); i++)
		if (p[i] != i * 2654435761UL)
			return 1;
	printf("memtest: %lu MiB ok\n", mib);
	return 0;
}

/* The boot marker again after each round listed in ign.mark_at=R1,R2,... */
static void mark_after(unsigned r)
{
	char list[128], *save = NULL;

	snprintf(list, sizeof(list), ",%s,", param("ign.mark_at", ""));
	for (char *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save))
		if ((unsigned)atoi(t) == r && ioperm(PORT_BOOT_MARKER, 1, 1) == 0) {
			printf("IGN_MARK %u\n", r);
			drain();  /* all said before the snapshot: a clone does not say it again */
			outb(BOOT_MARKER, PORT_BOOT_MARKER);
		}
}

#define COUNT_FNV 0x100000001b3ull

/* count's pattern: word i's first value, and its value after round r */
static uint64_t count_first(size_t i, uint64_t tag)
{
	return (i + tag * 0xbf58476d1ce4e5b9ull) * 0x9e3779b97f4a7c15ull;
}

static uint64_t count_next(uint64_t v, unsigned r)
{
	return v * 6364136223846793005ull + r + 1;
}

static int count(unsigned long mib, unsigned rounds)
{
	size_t n = (mib << 20) / sizeof(uint64_t);
	uint64_t *p = malloc(n * sizeof(*p)), sum = 0, tag = 0;
	struct timespec tick = { 0, 20 * 1000 * 1000 };
	int check = !strcmp(param("ign.tag", ""), "console");

	if (!p)
		return 1;
	if (check) {
		char line[32];
		printf("IGN_READY type a tag\n");
		if (!fgets(line, sizeof(line), stdin))
			return 99;
		tag = strtoull(line, NULL, 10);
		printf("IGN_TAG %llu\n", (unsigned long long)tag);
	}
	for (size_t i = 0; i < n; i++)
		p[i] = count_first(i, tag);
	for (unsigned r = 0; r < rounds; r++) {
		sum = 0;
		for (size_t i = 0; i < n; i++) {
			p[i] = count_next(p[i], r);
			sum = (sum ^ (p[i] + i)) * COUNT_FNV;
		}
		nanosleep(&tick, NULL);
		printf("IGN_COUNT %u %016llx\n", r, (unsigned long long)sum);
		mark_after(r);
	}
	printf("IGN_COUNT_DONE %016llx\n", (unsigned long long)sum);
	if (check) {  /* every word is what this VM, and only it, wrote */
		for (size_t i = 0; i < n; i++) {
			uint64_t v = count_first(i, tag);
			for (unsigned r = 0; r < rounds; r++)
				v = count_next(v, r);
			if (p[i] != v) {
				printf("IGN_COUNT_CHECK bad at word %zu\n", i);
				return 1;
			}
		}
		printf("IGN_COUNT_CHECK ok\n");
	}
	return 0;
}

static int run_shell_line(void)
{
	static char line[4096];
	int st;

	mkdir("/dev", 0755);
	mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
	mkdir("/tmp", 01777);
	mount("tmpfs", "/tmp", "tmpfs", 0, NULL);
	printf("IGN_READY type a command\n");
	if (!fgets(line, sizeof(line), stdin))
		return 99;
	line[strcspn(line, "\n")] = 0;
	pid_t pid = fork();
	if (pid == 0) {
		execl("/bin/busybox", "sh", "-c", line, (char *)NULL);
		perror("exec /bin/busybox");
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &st, 0) < 0)
		return 98;
	int status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	printf("IGN_SH_STATUS %d\n", status);
	return status;
}

int main(void)
{
	mount("proc", "/proc", "proc", 0, NULL);
	mount("sysfs", "/sys", "sysfs", 0, NULL);
	int fd = open("/proc/cmdline", O_RDONLY);
	if (fd >= 0) {
		if (read(fd, cmdline, sizeof(cmdline) - 1) < 0)
			cmdline[0] = '\0';
		close(fd);
	}
	setvbuf(stdout, NULL, _IOLBF, 0);

	printf("IGN_HELLO hello from the ign guest\n");
	/* ign.touch=MiB: that much memory written before the marker (a snapshot's working set) */
	size_t touch = strtoul(param("ign.touch", "0"), NULL, 10) << 20;
	char *held = touch ? malloc(touch) : NULL;
	for (size_t i = 0; held && i < touch; i += 4096)
		held[i] = 1;
	if (ioperm(PORT_BOOT_MARKER, 1, 1) == 0)
		outb(BOOT_MARKER, PORT_BOOT_MARKER);
	printf("IGN_AFTER_MARKER\n");  /* a snapshot taken at the marker resumes here */

	char test[64];
	snprintf(test, sizeof(test), "%s", param("ign.test", "hello"));  /* param() reuses its buffer */
	int status = atoi(param("ign.exit", "0"));

	if (!strcmp(test, "cpus")) {
		printf("IGN_CPUS %d\n", online_cpus());
	} else if (!strcmp(test, "echo")) {
		char line[256];
		printf("IGN_READY type a line\n");
		if (!fgets(line, sizeof(line), stdin))
			vm_exit(99);
		printf("IGN_ECHO %s", line);
	} else if (!strcmp(test, "reboot")) {
		drain();
		reboot(RB_AUTOBOOT);
	} else if (!strcmp(test, "poweroff")) {
		drain();
		reboot(RB_POWER_OFF);
	} else if (!strcmp(test, "sh")) {
		status = run_shell_line();
	} else if (!strcmp(test, "memtest")) {
		status = memtest(strtoul(param("ign.mem", "64"), NULL, 10));
	} else if (!strcmp(test, "count")) {
		unsigned long mib = strtoul(param("ign.mem", "16"), NULL, 10);
		status = count(mib, strtoul(param("ign.rounds", "20"), NULL, 10));
	}
	vm_exit(status);
}
