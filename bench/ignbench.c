// SPDX-License-Identifier: Apache-2.0
/*
 * ignbench: the measuring end of bench/io-in-vm.sh, static so it runs in the
 * guest's busybox root and in the nested-KVM L1.
 *   ignbench read FILE        sequential read, 1 MiB blocks: MB/s
 *   ignbench source BYTES     write BYTES of zeros to stdout: MB/s (on stderr)
 *   ignbench sink             read stdin to its end: MB/s
 *   ignbench exitlat N        N reads of the 16550's scratch register (port
 *                             0x3ff): each is a VM exit to the VMM and back;
 *                             prints the median of 10 batches, ns per exit
 *   ignbench time CMD...      run CMD, print its wall time in microseconds
 * Results are one line "name=value ..." for the script to parse.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/io.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BLOCK (1u << 20)

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void rate(FILE *f, const char *what, unsigned long long bytes, double secs)
{
	fprintf(f, "%s_bytes=%llu %s_secs=%.3f %s_mbps=%.1f\n", what, bytes, what, secs, what,
		bytes / secs / 1e6);
}

static int copy(int in, int out, const char *what, FILE *report)
{
	static char buf[BLOCK];
	unsigned long long total = 0;
	double t0 = now();
	ssize_t n;

	while ((n = read(in, buf, sizeof(buf))) > 0) {
		if (out >= 0 && write(out, buf, n) != n)
			return 1;
		total += n;
	}
	if (n < 0)
		return perror(what), 1;
	rate(report, what, total, now() - t0);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "read")) {
		int fd = open(argv[2], O_RDONLY);
		return fd < 0 ? (perror(argv[2]), 1) : copy(fd, -1, "read", stdout);
	}
	if (argc == 2 && !strcmp(argv[1], "sink"))
		return copy(0, -1, "sink", stdout);
	if (argc == 3 && !strcmp(argv[1], "source")) {
		static char buf[BLOCK];
		unsigned long long want = strtoull(argv[2], NULL, 0), done = 0;
		double t0 = now();
		while (done < want) {
			size_t k = want - done < BLOCK ? want - done : BLOCK;
			ssize_t w = write(1, buf, k);
			if (w <= 0)
				return perror("source"), 1;
			done += w;
		}
		rate(stderr, "source", done, now() - t0);
		return 0;
	}
	if (argc == 3 && !strcmp(argv[1], "exitlat")) {
		long n = atol(argv[2]);
		double batch[10];
		if (n < 10 || ioperm(0x3f8, 8, 1) < 0)
			return perror("exitlat: ioperm"), 1;
		for (int b = 0; b < 10; b++) {
			double t0 = now();
			for (long i = 0; i < n / 10; i++)
				(void)inb(0x3ff);
			batch[b] = (now() - t0) / (n / 10) * 1e9;
		}
		qsort(batch, 10, sizeof(batch[0]), cmp_double);
		printf("exit_ns=%.0f exit_min_ns=%.0f\n", (batch[4] + batch[5]) / 2, batch[0]);
		return 0;
	}
	if (argc >= 3 && !strcmp(argv[1], "time")) {
		double t0 = now();
		pid_t pid = fork();
		if (pid == 0) {
			execvp(argv[2], argv + 2);
			_exit(127);
		}
		int status;
		waitpid(pid, &status, 0);
		fprintf(stderr, "time_us=%.0f rc=%d\n", (now() - t0) * 1e6,
			WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
		return 0;
	}
	fprintf(stderr, "usage: ignbench read FILE | source BYTES | sink | exitlat N | "
		"time CMD...\n");
	return 2;
}
