// SPDX-License-Identifier: Apache-2.0
/*
 * boottime: run a VMM and time how long its guest takes to print a marker.
 *   boottime MARKER CMD [ARGS...]
 * Starts CMD with stdout on a pipe, copies its output to our stderr, and when
 * MARKER first appears records the time since fork and the child's VmRSS.
 * After the child exits it prints one line on stdout:
 *   marker_ms=12.34 rss_kib=5678 rc=0        (marker_ms=-1 if never seen)
 * Static, so it runs inside the nested-KVM test guest too.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static long rss_kib(pid_t pid)
{
	char path[64], line[256];
	long kib = -1;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

int main(int argc, char **argv)
{
	int p[2];

	if (argc < 3) {
		fprintf(stderr, "usage: boottime MARKER CMD [ARGS...]\n");
		return 2;
	}
	const char *marker = argv[1];
	size_t mlen = strlen(marker);
	if (pipe(p) < 0)
		return 2;
	double t0 = now_ms();
	pid_t pid = fork();
	if (pid < 0)
		return 2;
	if (pid == 0) {
		dup2(p[1], STDOUT_FILENO);
		close(p[0]);
		close(p[1]);
		execvp(argv[2], argv + 2);
		perror(argv[2]);
		_exit(127);
	}
	close(p[1]);

	char window[4096 + 256];
	size_t have = 0;
	double seen = -1;
	long rss = -1;
	ssize_t n;
	while ((n = read(p[0], window + have, sizeof(window) - have - 1)) > 0) {
		if (fwrite(window + have, 1, n, stderr) != (size_t)n)
			break;
		have += n;
		window[have] = '\0';
		if (seen < 0 && memmem(window, have, marker, mlen)) {
			seen = now_ms() - t0;
			rss = rss_kib(pid);
		}
		if (have > sizeof(window) / 2) {  /* keep a tail for markers split across reads */
			memmove(window, window + have - mlen, mlen);
			have = mlen;
		}
	}
	int st = 0;
	waitpid(pid, &st, 0);
	int rc = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	printf("marker_ms=%.2f rss_kib=%ld rc=%d\n", seen, rss, rc);
	return 0;
}
