// SPDX-License-Identifier: Apache-2.0
#include "identity.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/random.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>

#include "ign/cleanup.h"

#define SEED_MIN 16
#define SEED_MAX 256

static int hex_nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int reseed(const char *hex, struct ign_err *err)
{
	struct {
		struct rand_pool_info info;
		uint8_t buf[SEED_MAX];
	} p = { 0 };
	size_t n = strlen(hex) / 2;

	if (strlen(hex) % 2 || n < SEED_MIN || n > SEED_MAX)
		return ign_err_setx(err, EINVAL, "seed: %d to %d bytes in hex expected", SEED_MIN,
				    SEED_MAX);
	for (size_t i = 0; i < n; i++) {
		int hi = hex_nibble(hex[2 * i]), lo = hex_nibble(hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return ign_err_setx(err, EINVAL, "seed: not hex");
		p.buf[i] = (uint8_t)(hi << 4 | lo);
	}
	p.info.entropy_count = (int)n * 8;
	p.info.buf_size = (int)n;
	cleanup_close int fd = open("/dev/urandom", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return ign_err_set(err, errno, "seed: /dev/urandom");
	if (ioctl(fd, RNDADDENTROPY, &p.info) < 0)
		return ign_err_set(err, errno, "seed: RNDADDENTROPY");
	if (ioctl(fd, RNDRESEEDCRNG) < 0)
		return ign_err_set(err, errno, "seed: RNDRESEEDCRNG");
	explicit_bzero(&p, sizeof(p));
	return 0;
}

static int set_time(const struct ign_json *t, struct ign_err *err)
{
	int64_t sec, nsec;
	int r;

	if ((r = ign_json_int64(ign_json_member(t, "sec"), "time.sec", &sec, err)) < 0 ||
	    (r = ign_json_int64(ign_json_member(t, "nsec"), "time.nsec", &nsec, err)) < 0)
		return r;
	if (sec < 0 || nsec < 0 || nsec >= 1000000000)
		return ign_err_setx(err, EINVAL, "time: %lld.%09lld is not a time",
				    (long long)sec, (long long)nsec);
	struct timespec ts = { .tv_sec = sec, .tv_nsec = nsec };
	if (clock_settime(CLOCK_REALTIME, &ts) < 0)
		return ign_err_set(err, errno, "time: clock_settime");
	return 0;
}

int identity_apply(const struct ign_json *msg, struct ign_err *err)
{
	const struct ign_json *seed = ign_json_member(msg, "seed");
	const struct ign_json *t = ign_json_member(msg, "time");
	const char *hex;
	int r;

	if (seed && ((r = ign_json_string(seed, "seed", &hex, err)) < 0 ||
		     (r = reseed(hex, err)) < 0))
		return r;
	if (t && (r = set_time(t, err)) < 0)
		return r;
	return 0;
}
