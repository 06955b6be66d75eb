// SPDX-License-Identifier: Apache-2.0
/*
 * ign-vmm: boot a kernel in a KVM microVM from the command line.
 * A thin CLI over the VMM library; docs/vmm.md documents every flag.
 *
 * Exit status: the byte the guest wrote to the exit port, 0 when the guest
 * rebooted or powered off, 1 when ign-vmm itself failed (message on stderr).
 */
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ign/err.h"
#include "ign/log.h"
#include "ign/vmm.h"

#define DEFAULT_CMDLINE "console=ttyS0 reboot=k panic=-1"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: ign-vmm --kernel PATH [options]\n"
		"       ign-vmm --restore DIR [options]\n"
		"Boot a Linux kernel (ELF vmlinux or bzImage) in a KVM microVM, or start one\n"
		"from a snapshot.\n"
		"\n"
		"  -k, --kernel PATH    kernel image (required)\n"
		"  -i, --initrd PATH    initramfs\n"
		"  -c, --cmdline STR    kernel command line (default \"" DEFAULT_CMDLINE "\")\n"
		"  -a, --append STR     append to the command line\n"
		"  -n, --vcpus N        number of vCPUs, 1-%d (default 1)\n"
		"  -m, --mem MIB        guest memory in MiB, %d-%d (default 128)\n"
		"      --xsave MODE     auto|host|hide: XSAVE for the guest (default auto: hidden\n"
		"                       only on QEMU's emulator, where nested XSAVE is broken)\n"
		"      --disk PATH[,ro] a virtio-blk disk backed by PATH (repeatable, up to %d;\n"
		"                       the guest sees /dev/vda, /dev/vdb... in this order)\n"
		"      --rng            a virtio-rng device (the guest's /dev/hwrng)\n"
		"      --vsock PATH[,cid=N]  a virtio-vsock device whose host side is the\n"
		"                       AF_UNIX socket PATH (Firecracker's protocol: connect,\n"
		"                       send \"CONNECT <port>\\n\"; guest connections to host\n"
		"                       port P reach PATH_P); guest CID N (default 3)\n"
		"      --net TAP[,mac=M]  a virtio-net device on tap device TAP (created if\n"
		"                       missing, given CAP_NET_ADMIN); guest MAC M (default\n"
		"                       52:54:00:12:34:56)\n"
		"      --share TAG=DIR[,ro]  a virtio-9p device serving host directory DIR;\n"
		"                       the guest mounts it with `mount -t 9p -o trans=virtio,\n"
		"                       version=9p2000.L,msize=131072 TAG /mnt` (repeatable, up\n"
		"                       to %d; ro: every change is refused)\n"
		"      --snapshot-at-marker DIR  when the guest first writes the boot marker,\n"
		"                       save a snapshot into DIR (which must not exist), go on\n"
		"      --diff           with --restore: the snapshot keeps only the pages the VM\n"
		"                       changed since, over the restored one (its parent)\n"
		"      --reset-at-marker  with --restore: when the guest first writes the boot\n"
		"                       marker, roll the VM back to the snapshot, in place\n"
		"      --restore DIR    start from the snapshot in DIR instead of booting; give\n"
		"                       the same --vcpus, --mem and devices as the VM that made it\n"
		"      --resave DIR     with --restore: save the restored VM at once as a full\n"
		"                       snapshot in DIR and end, the guest never run (flattens a\n"
		"                       diff chain; the state round trip the tests compare)\n"
		"      --jail DIR       once the devices are open, run in an own mount namespace\n"
		"                       whose root is an empty tmpfs on DIR with only /proc and\n"
		"                       the directories of --vsock, --snapshot-at-marker and\n"
		"                       --restore (absolute paths) in it\n"
		"      --boot-timer     report time and VMM memory when the guest writes the\n"
		"                       boot marker (123 to port 0x3f0)\n"
		"      --no-acpi        no ACPI tables, only the MP table (for kernels without\n"
		"                       CONFIG_ACPI; the guest can then reboot but not power off)\n"
		"  -d, --debug          debug logging\n"
		"  -V, --version        print the version\n"
		"  -h, --help           this help\n"
		"\n"
		"Exit status: the byte the guest writes to port 0x501; 0 when the guest reboots\n"
		"or powers off; 1 when ign-vmm fails.\n"
		"\n"
		"Once its devices are open, ign-vmm drops its capabilities, and each of its\n"
		"threads runs under a seccomp allowlist (docs/security.md). Environment:\n"
		"IGN_SECCOMP=log lets a call outside the allowlists run and the kernel log it;\n"
		"IGN_SECCOMP=off loads no filter. Both are for finding a missing call.\n",
		IGN_VM_MAX_VCPUS, IGN_VM_MIN_MEM_MIB, IGN_VM_MAX_MEM_MIB, IGN_VM_MAX_DISKS, IGN_VM_MAX_SHARES);
}

static int parse_uint(const char *flag, const char *s, unsigned long long *out,
		      struct ign_err *err)
{
	char *end;

	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-')
		return ign_err_setx(err, EINVAL, "%s: `%s` is not a number", flag, s);
	*out = v;
	return 0;
}

/* PATH or PATH,ro; PATH may not itself contain ",ro" at its end. */
static int parse_disk(char *arg, struct ign_vm_config *vm, struct ign_err *err)
{
	size_t n = strlen(arg);
	int ro = n > 3 && !strcmp(arg + n - 3, ",ro");

	if (vm->ndisks >= IGN_VM_MAX_DISKS)
		return ign_err_setx(err, E2BIG, "--disk: at most %d disks", IGN_VM_MAX_DISKS);
	if (ro)
		arg[n - 3] = 0;
	if (!*arg)
		return ign_err_setx(err, EINVAL, "--disk: no path given");
	vm->disks[vm->ndisks++] = (struct ign_vm_disk){ .path = arg, .readonly = ro };
	return 0;
}

/* TAG=DIR or TAG=DIR,ro */
static int parse_share(char *arg, struct ign_vm_config *vm, struct ign_err *err)
{
	char *dir = strchr(arg, '=');
	size_t n;

	if (vm->nshares >= IGN_VM_MAX_SHARES)
		return ign_err_setx(err, E2BIG, "--share: at most %d shares", IGN_VM_MAX_SHARES);
	if (!dir || dir == arg || !dir[1])
		return ign_err_setx(err, EINVAL, "--share: `%s` is not TAG=DIR[,ro]", arg);
	*dir++ = 0;
	n = strlen(dir);
	int ro = n > 3 && !strcmp(dir + n - 3, ",ro");
	if (ro)
		dir[n - 3] = 0;
	vm->shares[vm->nshares++] = (struct ign_vm_share){ .tag = arg, .path = dir, .readonly = ro };
	return 0;
}

/* PATH or PATH,cid=N. */
static int parse_vsock(char *arg, struct ign_vm_config *vm, struct ign_err *err)
{
	char *opt = strstr(arg, ",cid=");
	unsigned long long cid = 3;
	int r;

	if (opt) {
		*opt = 0;
		if ((r = parse_uint("--vsock cid", opt + 5, &cid, err)) < 0)
			return r;
	}
	if (!*arg)
		return ign_err_setx(err, EINVAL, "--vsock: no socket path given");
	vm->vsock_path = arg;
	vm->vsock_cid = cid;
	return 0;
}

/* "52:54:00:12:34:56" */
static int parse_mac(const char *s, uint8_t mac[6], struct ign_err *err)
{
	unsigned v[6];
	int used = -1;

	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%n", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
		   &used) != 6 || used != (int)strlen(s))
		return ign_err_setx(err, EINVAL, "MAC address `%s`: want six hex bytes like "
				    "52:54:00:12:34:56", s);
	if (v[0] & 1)
		return ign_err_setx(err, EINVAL, "MAC address `%s` is a multicast address", s);
	for (int i = 0; i < 6; i++)
		mac[i] = v[i];
	return 0;
}

/* TAP or TAP,mac=M. */
static int parse_net(char *arg, struct ign_vm_config *vm, struct ign_err *err)
{
	static const uint8_t default_mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
	char *opt = strstr(arg, ",mac=");
	int r;

	memcpy(vm->net_mac, default_mac, 6);
	if (opt) {
		*opt = 0;
		if ((r = parse_mac(opt + 5, vm->net_mac, err)) < 0)
			return ign_err_wrap(err, "--net");
	}
	if (!*arg)
		return ign_err_setx(err, EINVAL, "--net: no tap device given");
	vm->net_tap = arg;
	return 0;
}

enum { OPT_XSAVE = 256, OPT_BOOT_TIMER, OPT_NO_ACPI, OPT_DISK, OPT_RNG, OPT_VSOCK, OPT_NET,
       OPT_SHARE, OPT_SNAP_MARKER, OPT_RESTORE, OPT_DIFF, OPT_RESET_MARKER,
       OPT_RESAVE, OPT_JAIL };

static const struct option long_opts[] = {
	{ "kernel", required_argument, NULL, 'k' },
	{ "initrd", required_argument, NULL, 'i' },
	{ "cmdline", required_argument, NULL, 'c' },
	{ "append", required_argument, NULL, 'a' },
	{ "vcpus", required_argument, NULL, 'n' },
	{ "mem", required_argument, NULL, 'm' },
	{ "xsave", required_argument, NULL, OPT_XSAVE },
	{ "boot-timer", no_argument, NULL, OPT_BOOT_TIMER },
	{ "no-acpi", no_argument, NULL, OPT_NO_ACPI },
	{ "disk", required_argument, NULL, OPT_DISK },
	{ "share", required_argument, NULL, OPT_SHARE },
	{ "snapshot-at-marker", required_argument, NULL, OPT_SNAP_MARKER },
	{ "restore", required_argument, NULL, OPT_RESTORE },
	{ "diff", no_argument, NULL, OPT_DIFF },
	{ "resave", required_argument, NULL, OPT_RESAVE },
	{ "jail", required_argument, NULL, OPT_JAIL },
	{ "reset-at-marker", no_argument, NULL, OPT_RESET_MARKER },
	{ "rng", no_argument, NULL, OPT_RNG },
	{ "vsock", required_argument, NULL, OPT_VSOCK },
	{ "net", required_argument, NULL, OPT_NET },
	{ "debug", no_argument, NULL, 'd' },
	{ "version", no_argument, NULL, 'V' },
	{ "help", no_argument, NULL, 'h' },
	{ 0 },
};

struct cli {
	struct ign_vm_config vm;
	const char *base_cmdline;
	const char *append;
	const char *resave;  /* --resave DIR */
	const char *jail;    /* --jail DIR */
	int debug;
};

/* Returns 1 to go on, 0 when done (help, version), <0 on a usage error. */
static int parse_args(int argc, char **argv, struct cli *cli, struct ign_err *err)
{
	unsigned long long v;
	int c, r;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":k:i:c:a:n:m:dVh", long_opts, NULL)) != -1) {
		switch (c) {
		case 'k': cli->vm.kernel = optarg; break;
		case 'i': cli->vm.initrd = optarg; break;
		case 'c': cli->base_cmdline = optarg; break;
		case 'a': cli->append = optarg; break;
		case 'd': cli->debug = 1; break;
		case OPT_BOOT_TIMER: cli->vm.boot_timer = 1; break;
		case OPT_NO_ACPI: cli->vm.no_acpi = 1; break;
		case OPT_RNG: cli->vm.rng = 1; break;
		case OPT_VSOCK:
			if ((r = parse_vsock(optarg, &cli->vm, err)) < 0)
				return r;
			break;
		case OPT_NET:
			if ((r = parse_net(optarg, &cli->vm, err)) < 0)
				return r;
			break;
		case OPT_DISK:
			if ((r = parse_disk(optarg, &cli->vm, err)) < 0)
				return r;
			break;
		case OPT_SNAP_MARKER: cli->vm.snapshot_at_marker = optarg; break;
		case OPT_RESTORE: cli->vm.restore_from = optarg; break;
		case OPT_DIFF: cli->vm.snapshot_diff = 1; break;
		case OPT_RESET_MARKER: cli->vm.reset_at_marker = 1; break;
		case OPT_RESAVE: cli->resave = optarg; break;
		case OPT_JAIL: cli->jail = optarg; break;
		case OPT_SHARE:
			if ((r = parse_share(optarg, &cli->vm, err)) < 0)
				return r;
			break;
		case 'n':
			if ((r = parse_uint("--vcpus", optarg, &v, err)) < 0)
				return r;
			cli->vm.vcpus = v > IGN_VM_MAX_VCPUS ? IGN_VM_MAX_VCPUS + 1 : (unsigned)v;
			break;
		case 'm':
			if ((r = parse_uint("--mem", optarg, &v, err)) < 0)
				return r;
			cli->vm.mem_mib = v;
			break;
		case OPT_XSAVE:
			if (!strcmp(optarg, "auto"))
				cli->vm.xsave = IGN_XSAVE_AUTO;
			else if (!strcmp(optarg, "host"))
				cli->vm.xsave = IGN_XSAVE_HOST;
			else if (!strcmp(optarg, "hide"))
				cli->vm.xsave = IGN_XSAVE_HIDE;
			else
				return ign_err_setx(err, EINVAL, "--xsave: `%s` is not one of "
						    "auto, host, hide", optarg);
			break;
		case 'V':
			printf("ign-vmm %s\n", IGN_VMM_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		case ':':
			return ign_err_setx(err, EINVAL, "option `%s` needs a value (see --help)",
					    argv[optind - 1]);
		default:
			return ign_err_setx(err, EINVAL, "unknown option `%s` (see --help)",
					    argv[optind - 1]);
		}
	}
	if (optind < argc)
		return ign_err_setx(err, EINVAL, "unexpected argument `%s` (see --help)",
				    argv[optind]);
	if (!cli->vm.kernel && !cli->vm.restore_from)
		return ign_err_setx(err, EINVAL, "no kernel: use --kernel PATH or --restore DIR "
				    "(see --help)");
	if (cli->resave && !cli->vm.restore_from)
		return ign_err_setx(err, EINVAL, "--resave needs --restore DIR (see --help)");
	if (cli->resave && (cli->vm.snapshot_at_marker || cli->vm.reset_at_marker ||
			    cli->vm.snapshot_diff))
		return ign_err_setx(err, EINVAL, "--resave saves a full snapshot at once: it takes "
				    "no --snapshot-at-marker, --reset-at-marker or --diff");
	return 1;
}

/* The parent directory of absolute path p, in buf; NULL for no path. */
static const char *parent_of(const char *p, char *buf, size_t len, struct ign_err *err)
{
	if (!p)
		return NULL;
	if (p[0] != '/') {
		ign_err_setx(err, EINVAL, "--jail: `%s` must be an absolute path", p);
		return NULL;
	}
	snprintf(buf, len, "%s", p);
	return dirname(buf);
}

/* --jail: what the VM still opens by name once it runs (vmm/jail.c). */
static int enter_jail(const struct cli *cli, struct ign_err *err)
{
	char vsock[PATH_MAX], snap[PATH_MAX];
	const struct ign_vm_config *vm = &cli->vm;
	const char *keep[3] = {
		parent_of(vm->vsock_path, vsock, sizeof(vsock), err),  /* guest-made connections */
		parent_of(vm->snapshot_at_marker, snap, sizeof(snap), err),
		vm->restore_from,  /* a diff snapshot names it, a reset reads it again */
	};

	if ((vm->vsock_path && !keep[0]) || (vm->snapshot_at_marker && !keep[1]))
		return -EINVAL;
	if (keep[2] && keep[2][0] != '/')
		return ign_err_setx(err, EINVAL, "--jail: `%s` must be an absolute path", keep[2]);
	return ign_vm_jail(cli->jail, keep, 3, err);
}

int main(int argc, char **argv)
{
	struct cli cli = {
		.vm = { .vcpus = 1, .mem_mib = 128, .console_in = STDIN_FILENO,
			.console_out = STDOUT_FILENO },
		.base_cmdline = DEFAULT_CMDLINE,
	};
	struct ign_err err = { 0 };
	struct ign_vm *vm = NULL;
	char cmdline[4096];
	int status = 0;

	int r = parse_args(argc, argv, &cli, &err);
	if (r > 0 && (r = ign_seccomp_mode_from_env(&cli.vm.seccomp, &err)) == 0)
		r = 1;
	if (r <= 0) {
		if (r < 0)
			fprintf(stderr, "ign-vmm: %s\n", err.msg);
		return r < 0 ? 1 : 0;
	}
	ign_log_init("ign-vmm", NULL, IGN_LOG_TEXT, cli.debug ? IGN_LOG_DEBUG : IGN_LOG_WARN);

	int n = snprintf(cmdline, sizeof(cmdline), "%s%s%s", cli.base_cmdline,
			 cli.append ? " " : "", cli.append ? cli.append : "");
	if (n < 0 || (size_t)n >= sizeof(cmdline)) {
		fprintf(stderr, "ign-vmm: kernel command line is longer than %zu bytes\n",
			sizeof(cmdline) - 1);
		return 1;
	}
	cli.vm.cmdline = cmdline;

	r = ign_vm_create(&cli.vm, &vm, &err);
	if (r == 0 && cli.resave)  /* saved at once: the guest never runs */
		r = ign_vm_snapshot(vm, cli.resave, &err);
	else if (r == 0 && (!cli.jail || (r = enter_jail(&cli, &err)) == 0) &&
		 (r = ign_vm_drop_privileges(&cli.vm, &err)) == 0)
		r = ign_vm_run(vm, &status, &err);
	if (r < 0) {
		fprintf(stderr, "ign-vmm: %s\n", err.msg);
		ign_vm_destroy(vm);
		return 1;
	}
	ign_vm_destroy(vm);
	return status;
}
