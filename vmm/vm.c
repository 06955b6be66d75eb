// SPDX-License-Identifier: Apache-2.0
/*
 * One KVM virtual machine: guest RAM, in-kernel irqchip and PIT, vCPU
 * threads, the port I/O bus with the console and platform ports, and the
 * virtio-mmio devices with the I/O thread that serves them.
 *
 * Device table: virtio-mmio device n has its registers at 0xd0000000 + n*4K
 * and interrupt GSI 5 + n; disks come first (vda, vdb...), then rng, vsock, net. The
 * guest learns them from the DSDT, or with --no-acpi from virtio_mmio.device=
 * on the command line (then only GSIs up to 15: the MP table's ISA IRQs).
 * Queue kicks arrive on ioeventfds, interrupts leave through irqfds.
 *
 * Threading: one thread per vCPU runs KVM_RUN and handles its exits; the
 * console thread feeds the 16550's receiver; the caller of ign_vm_run()
 * waits for them. Stopping: vm_stop() records the outcome once, then kicks
 * every vCPU thread with SIGUSR1, whose handler sets kvm_run.immediate_exit
 * so that a vCPU about to enter the guest returns at once (no lost wakeup).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "arch/x86/boot.h"
#include "arch/x86/cpuid.h"
#include "arch/x86/loader.h"
#include "arch/x86/vcpu.h"
#include "devices/pio.h"
#include "devices/platform.h"
#include "devices/serial.h"
#include "evloop.h"
#include "ign/cleanup.h"
#include "ign/fdio.h"
#include "ign/log.h"
#include "ign/vmm.h"
#include "kvm/kvm.h"
#include "vm_priv.h"
#include "mem.h"
#include "snapshot/snapshot.h"
#include "virtio/9p.h"
#include "virtio/blk.h"
#include "virtio/mmio.h"
#include "virtio/net.h"
#include "virtio/rng.h"
#include "virtio/vsock.h"

static __thread struct kvm_run *tls_run;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static void vm_stop(struct ign_vm *vm, int status, const struct ign_err *fail)
{
	pthread_mutex_lock(&vm->stop_lock);
	if (!vm->stopping) {
		vm->stopping = 1;
		vm->status = status;
		if (fail) {
			vm->failed = 1;
			vm->fail = *fail;
		}
		for (unsigned i = 0; i < vm->nvcpus; i++)
			if (vm->vcpu[i].started && !pthread_equal(vm->vcpu[i].thread, pthread_self()))
				pthread_kill(vm->vcpu[i].thread, VCPU_KICK_SIGNAL);
		if (write(vm->stop_pipe[1], "x", 1) < 0)
			log_debug("stop pipe: %s", strerror(errno));
		pthread_cond_broadcast(&vm->ctl_cond);
	}
	pthread_mutex_unlock(&vm->stop_lock);
}

void vm_stop_failed(struct ign_vm *vm, const struct ign_err *err)
{
	vm_stop(vm, 1, err);
}

/* ---- devices ---- */

static void serial_out(void *opaque, uint8_t byte)
{
	struct ign_vm *vm = opaque;

	if (vm->cfg.console_out >= 0)
		ign_write_all(vm->cfg.console_out, &byte, 1);
}

static void serial_irq(void *opaque, int level)
{
	struct ign_vm *vm = opaque;
	struct kvm_irq_level irq = { .irq = SERIAL_COM1_IRQ, .level = level };

	if (ign_ioctl(vm->vm_fd, KVM_IRQ_LINE, &irq, NULL) < 0)
		log_ratelimited(IGN_LOG_WARN, "KVM_IRQ_LINE %d failed", SERIAL_COM1_IRQ);
}

static void serial_pio_write(void *dev, uint16_t off, const uint8_t *data, unsigned size)
{
	(void)size;
	serial_write(dev, off, data[0]);
}

static void serial_pio_read(void *dev, uint16_t off, uint8_t *data, unsigned size)
{
	memset(data, 0, size);
	data[0] = serial_read(dev, off);
}

static const struct pio_ops serial_pio_ops = { "serial", serial_pio_write, serial_pio_read };

/* Resident memory of this process outside guest RAM: the VMM's own overhead. */
static void vm_report_memory(struct ign_vm *vm, double ms)
{
	cleanup_fclose FILE *f = fopen("/proc/self/smaps", "re");
	char line[512];
	uint64_t start = 0, other_kb = 0, guest_kb = 0, kb;
	const uint64_t ram = (uintptr_t)vm->mem.hva;

	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		uint64_t a, b;
		if (sscanf(line, "%" SCNx64 "-%" SCNx64 " ", &a, &b) == 2) {
			start = a;  /* a mapping's header line */
			continue;
		}
		if (sscanf(line, "Rss: %" SCNu64 " kB", &kb) == 1) {
			if (start == ram)
				guest_kb += kb;
			else
				other_kb += kb;
		}
	}
	log_info("boot marker %.1f ms after start; VMM resident memory %.2f MiB outside guest "
		 "RAM (guest RAM resident %.1f MiB)", ms, other_kb / 1024.0, guest_kb / 1024.0);
	fprintf(stderr, "ign-vmm: boot-marker ms=%.2f vmm_rss_kib=%" PRIu64 " guest_rss_kib=%"
		PRIu64 "\n", ms, other_kb, guest_kb);
}

static void platform_stop(void *opaque, int status)
{
	vm_stop(opaque, status, NULL);
}

static void platform_boot_marker(void *opaque)
{
	struct ign_vm *vm = opaque;

	if (vm->cfg.boot_timer)
		vm_report_memory(vm, (now_ns() - vm->t0_ns) / 1e6);
	if ((vm->cfg.snapshot_at_marker || vm->cfg.reset_at_marker) && !vm->snap_asked) {
		/*
		 * On the vCPU thread that wrote the marker: it pauses before it
		 * enters the guest again, so the snapshot holds the guest exactly
		 * after its marker write; ign_vm_run's thread takes it.
		 */
		pthread_mutex_lock(&vm->stop_lock);
		vm->snap_asked = 1;  /* once: later markers are not snapshots (or resets) */
		vm->snap_req = 1;
		__atomic_store_n(&vm->pause_req, 1, __ATOMIC_RELEASE);
		pthread_cond_broadcast(&vm->ctl_cond);
		pthread_mutex_unlock(&vm->stop_lock);
	}
}

/* ---- vCPUs ---- */

static void vcpu_kick_handler(int sig)
{
	(void)sig;
	if (tls_run)
		tls_run->immediate_exit = 1;
}

static void vcpu_handle_io(struct vcpu *c)
{
	struct kvm_run *run = c->run;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;

	/* data_offset/size/count come from KVM, not the guest; still bound them. */
	if (run->io.size > 8 ||
	    run->io.data_offset + (uint64_t)run->io.size * run->io.count > c->run_size)
		return;
	for (uint32_t i = 0; i < run->io.count; i++, data += run->io.size)
		pio_bus_access(&c->vm->pio, run->io.port, run->io.direction == KVM_EXIT_IO_OUT,
			       data, run->io.size);
}

static void vcpu_handle_mmio(struct vcpu *c)
{
	struct kvm_run *run = c->run;
	struct ign_vm *vm = c->vm;
	uint64_t a = run->mmio.phys_addr;
	unsigned len = run->mmio.len <= sizeof(run->mmio.data) ? run->mmio.len : 0;

	if (len && a >= VIRTIO_MMIO_BASE && a - VIRTIO_MMIO_BASE < vm->nvirtio * VIRTIO_MMIO_SIZE) {
		uint64_t off = a - VIRTIO_MMIO_BASE;
		virtio_mmio_access(vm->virtio[off / VIRTIO_MMIO_SIZE].dev, off % VIRTIO_MMIO_SIZE,
				   run->mmio.is_write, run->mmio.data, len);
		return;
	}
	/* Nothing mapped there: reads float high, writes are dropped. */
	if (!run->mmio.is_write)
		memset(run->mmio.data, 0xff, sizeof(run->mmio.data));
	log_ratelimited(IGN_LOG_DEBUG, "unclaimed MMIO %s at 0x%llx",
			run->mmio.is_write ? "write" : "read", (unsigned long long)a);
}

static int vcpu_handle_exit(struct vcpu *c, struct ign_err *err)
{
	struct kvm_run *run = c->run;

	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		vcpu_handle_io(c);
		return 0;
	case KVM_EXIT_MMIO:
		vcpu_handle_mmio(c);
		return 0;
	case KVM_EXIT_SYSTEM_EVENT:
		vm_stop(c->vm, 0, NULL);
		return 0;
	case KVM_EXIT_INTR:
		return 0;
	case KVM_EXIT_SHUTDOWN:
		return ign_err_setx(err, EIO, "vCPU %u: guest triple fault (KVM_EXIT_SHUTDOWN); "
				    "to reboot, boot the guest with reboot=k", c->index);
	case KVM_EXIT_FAIL_ENTRY:
		return ign_err_setx(err, EIO, "vCPU %u: KVM_EXIT_FAIL_ENTRY, hardware reason 0x%llx",
				    c->index, (unsigned long long)
				    run->fail_entry.hardware_entry_failure_reason);
	case KVM_EXIT_INTERNAL_ERROR:
		return ign_err_setx(err, EIO, "vCPU %u: KVM internal error, suberror %u",
				    c->index, run->internal.suberror);
	default:
		return ign_err_setx(err, EIO, "vCPU %u: unexpected KVM exit reason %u", c->index,
				    run->exit_reason);
	}
}

/*
 * Paused by vm_pause(): finish the exit in progress (KVM completes a pending
 * PIO or MMIO read on the next KVM_RUN, here one that returns at once), save
 * the state if asked, then wait for vm_resume() or the end. Completing an
 * exit can make another (a string PIO, an MMIO access split in two): each is
 * handled and completed in turn, so no state is saved mid-instruction.
 */
static void vcpu_pause(struct vcpu *c)
{
	struct ign_vm *vm = c->vm;

	c->run->immediate_exit = 1;
	while (ioctl(c->fd, KVM_RUN, 0) == 0)
		vcpu_handle_exit(c, &c->save_err);
	c->run->immediate_exit = 0;
	pthread_mutex_lock(&vm->stop_lock);
	vm->npaused++;
	pthread_cond_broadcast(&vm->ctl_cond);
	while (vm->pause_req && !vm->stopping) {
		if (c->save_gen != vm->save_gen) {  /* vm_pause asks for our state */
			c->save_gen = vm->save_gen;
			c->save_rc = x86_vcpu_save(vm->kvm_fd, c->fd, vm->msrs, vm->nmsrs, c->saved,
						   &c->save_err);
			vm->nsaved++;
			pthread_cond_broadcast(&vm->ctl_cond);
			continue;
		}
		pthread_cond_wait(&vm->ctl_cond, &vm->stop_lock);
	}
	vm->npaused--;
	pthread_cond_broadcast(&vm->ctl_cond);
	pthread_mutex_unlock(&vm->stop_lock);
}

int vm_pause(struct ign_vm *vm, int save, struct ign_err *err)
{
	unsigned running = 0;

	pthread_mutex_lock(&vm->stop_lock);
	/* a vCPU may be paused already (the one that wrote the boot marker) */
	__atomic_store_n(&vm->pause_req, 1, __ATOMIC_RELEASE);
	for (unsigned i = 0; i < vm->nvcpus; i++) {
		if (!vm->vcpu[i].started)
			continue;
		running++;
		pthread_kill(vm->vcpu[i].thread, VCPU_KICK_SIGNAL);
	}
	while (vm->npaused < running && !vm->stopping)
		pthread_cond_wait(&vm->ctl_cond, &vm->stop_lock);
	if (save && !vm->stopping) {
		/* a VM not run yet (just restored): its vCPUs' state is read from here */
		for (unsigned i = 0; i < vm->nvcpus; i++) {
			struct vcpu *c = &vm->vcpu[i];
			if (!c->started)
				c->save_rc = x86_vcpu_save(vm->kvm_fd, c->fd, vm->msrs, vm->nmsrs,
							   c->saved, &c->save_err);
		}
		/* every vCPU is out of the guest: each saves its own state now */
		vm->nsaved = 0;
		vm->save_gen++;
		pthread_cond_broadcast(&vm->ctl_cond);
		while (vm->nsaved < running && !vm->stopping)
			pthread_cond_wait(&vm->ctl_cond, &vm->stop_lock);
	}
	int stopped = vm->stopping;
	pthread_mutex_unlock(&vm->stop_lock);
	if (stopped) {
		vm_resume(vm);
		return ign_err_setx(err, ECANCELED, "the VM ended while being paused");
	}
	return 0;
}

void vm_resume(struct ign_vm *vm)
{
	pthread_mutex_lock(&vm->stop_lock);
	__atomic_store_n(&vm->pause_req, 0, __ATOMIC_RELEASE);
	pthread_cond_broadcast(&vm->ctl_cond);
	/* wait until all have left the pause, so the next pause counts afresh */
	while (vm->npaused && !vm->stopping)
		pthread_cond_wait(&vm->ctl_cond, &vm->stop_lock);
	pthread_mutex_unlock(&vm->stop_lock);
}

/* A VM thread's first act: its name (vcpu0, io, console) and its allowlist. */
static int thread_begin(struct ign_vm *vm, enum ign_thread_kind kind, unsigned index)
{
	struct ign_err err;
	char name[16];
	int r;

	if (kind == IGN_THREAD_VCPU)
		snprintf(name, sizeof(name), "vcpu%u", index);
	else
		snprintf(name, sizeof(name), "%s", ign_thread_kind_name(kind));
	pthread_setname_np(pthread_self(), name);
	if ((r = ign_seccomp_apply(vm->cfg.seccomp, kind, &err)) < 0)
		vm_stop_failed(vm, &err);
	return r;
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *c = arg;
	struct ign_vm *vm = c->vm;
	struct ign_err err = { 0 };
	sigset_t kick;

	tls_run = c->run;
	sigemptyset(&kick);
	sigaddset(&kick, VCPU_KICK_SIGNAL);
	pthread_sigmask(SIG_UNBLOCK, &kick, NULL);
	if (thread_begin(vm, IGN_THREAD_VCPU, c->index) < 0)
		return NULL;

	while (!__atomic_load_n(&vm->stopping, __ATOMIC_ACQUIRE)) {
		if (__atomic_load_n(&vm->pause_req, __ATOMIC_ACQUIRE)) {
			vcpu_pause(c);
			continue;
		}
		c->run->immediate_exit = 0;
		if (__atomic_load_n(&vm->stopping, __ATOMIC_ACQUIRE) ||
		    __atomic_load_n(&vm->pause_req, __ATOMIC_ACQUIRE))
			continue;
		if (ioctl(c->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			ign_err_set(&err, errno, "vCPU %u: KVM_RUN", c->index);
			vm_stop_failed(vm, &err);
			break;
		}
		if (vcpu_handle_exit(c, &err) < 0) {
			vm_stop_failed(vm, &err);
			break;
		}
	}
	return NULL;
}

/* ---- console input ---- */

static void *console_thread(void *arg)
{
	struct ign_vm *vm = arg;
	struct pollfd p[2] = {
		{ .fd = vm->stop_pipe[0], .events = POLLIN },
		{ .fd = vm->cfg.console_in, .events = POLLIN },
	};
	uint8_t buf[SERIAL_FIFO_LEN];

	if (thread_begin(vm, IGN_THREAD_CONSOLE, 0) < 0)
		return NULL;
	for (;;) {
		int nfds = p[1].fd >= 0 ? 2 : 1;
		if (poll(p, nfds, -1) < 0 && errno != EINTR)
			return NULL;
		if (p[0].revents)
			return NULL;
		if (nfds < 2 || !p[1].revents)
			continue;

		pthread_mutex_lock(&vm->pio.lock);
		size_t space = serial_rx_ready(&vm->serial);
		pthread_mutex_unlock(&vm->pio.lock);
		if (space == 0) {
			/* The guest is not listening or not draining: wait, do not drop input. */
			poll(p, 1, 5);
			continue;
		}
		ssize_t n = read(p[1].fd, buf, space);
		if (n <= 0) {
			if (n < 0 && errno == EINTR)
				continue;
			p[1].fd = -1;  /* EOF or error: no more console input */
			continue;
		}
		pthread_mutex_lock(&vm->pio.lock);
		serial_rx_push(&vm->serial, buf, n);
		pthread_mutex_unlock(&vm->pio.lock);
	}
}

/* ---- create / run / destroy ---- */

static int vm_setup_kvm(struct ign_vm *vm, struct ign_err *err)
{
	struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };
	int r;

	if ((vm->kvm_fd = kvm_open(err)) < 0)
		return vm->kvm_fd;
	if ((vm->vm_fd = ign_ioctl(vm->kvm_fd, KVM_CREATE_VM, 0, err)) < 0)
		return vm->vm_fd;
	/* Intel needs a 3-page TSS region below 4 GiB for real-mode emulation. */
	if ((r = ign_ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, KVM_TSS_ADDR, err)) < 0)
		return r;
	/* The irqchip (PIC, IOAPIC, LAPICs) must exist before any vCPU. */
	if ((r = ign_ioctl(vm->vm_fd, KVM_CREATE_IRQCHIP, 0, err)) < 0)
		return r;
	return ign_ioctl(vm->vm_fd, KVM_CREATE_PIT2, &pit, err);
}

static int vm_setup_memory(struct ign_vm *vm, struct ign_err *err)
{
	struct guest_mem *m = &vm->mem;
	int r;

	guest_mem_layout(m, vm->cfg.mem_mib << 20);
	if (vm->cfg.restore_from) {
		if ((r = snapshot_map_memory(vm, err)) < 0)
			return r;
	} else {
		m->hva = mmap(NULL, m->size, PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (m->hva == MAP_FAILED) {
			m->hva = NULL;
			return ign_err_set(err, errno, "map %llu MiB of guest memory",
					   (unsigned long long)vm->cfg.mem_mib);
		}
	}
	struct kvm_userspace_memory_region low = {
		.slot = 0, .guest_phys_addr = 0, .memory_size = m->low_size,
		.userspace_addr = (uintptr_t)m->hva,
	};
	if ((r = ign_ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &low, err)) < 0)
		return r;
	if (!m->high_size)
		return 0;
	struct kvm_userspace_memory_region high = {
		.slot = 1, .guest_phys_addr = MEM_4G, .memory_size = m->high_size,
		.userspace_addr = (uintptr_t)m->hva + m->low_size,
	};
	return ign_ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &high, err);
}

static int vm_load_images(struct ign_vm *vm, uint64_t *entry, struct ign_err *err)
{
	cleanup_free char *kernel = NULL;
	cleanup_free char *initrd = NULL;
	size_t klen, ilen = 0;
	struct x86_kernel_image img;
	int r;

	struct x86_acpi_mmio_dev mmio[VM_MAX_VIRTIO];
	for (unsigned i = 0; i < vm->nvirtio; i++)
		mmio[i] = (struct x86_acpi_mmio_dev){ vm->virtio[i].dev->base, VIRTIO_MMIO_SIZE,
						      vm->virtio[i].dev->gsi };

	if ((r = ign_read_file(vm->cfg.kernel, KERNEL_MAX_BYTES, &kernel, &klen, err)) < 0)
		return ign_err_wrap(err, "kernel");
	if ((r = x86_kernel_parse((uint8_t *)kernel, klen, &img, err)) < 0)
		return ign_err_wrap(err, "kernel `%s`", vm->cfg.kernel);
	if (vm->cfg.initrd &&
	    (r = ign_read_file(vm->cfg.initrd, INITRD_MAX_BYTES, &initrd, &ilen, err)) < 0)
		return ign_err_wrap(err, "initrd");

	struct x86_boot_input in = {
		.img = &img, .kernel = (uint8_t *)kernel, .cmdline = vm->cmdline,
		.initrd = (uint8_t *)initrd, .initrd_len = ilen, .vcpus = vm->cfg.vcpus,
		.acpi = !vm->cfg.no_acpi, .mmio_devs = mmio, .nmmio_devs = vm->nvirtio,
	};
	if ((r = x86_boot_setup(&vm->mem, &in, err)) < 0)
		return r;
	*entry = img.entry;
	return 0;
}

/* The vCPUs and their run areas, in no particular state yet. */
static int vm_create_vcpus(struct ign_vm *vm, struct ign_err *err)
{
	int run_size = ign_ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0, err);

	if (run_size < 0)
		return run_size;
	for (unsigned i = 0; i < vm->cfg.vcpus; i++) {
		struct vcpu *c = &vm->vcpu[i];
		c->vm = vm;
		c->index = i;
		c->fd = ign_ioctl(vm->vm_fd, KVM_CREATE_VCPU, (unsigned long)i, err);
		if (c->fd < 0)
			return c->fd;
		vm->nvcpus = i + 1;
		c->run_size = run_size;
		c->run = mmap(NULL, run_size, PROT_READ | PROT_WRITE, MAP_SHARED, c->fd, 0);
		if (c->run == MAP_FAILED) {
			c->run = NULL;
			return ign_err_set(err, errno, "map vCPU %u run area", i);
		}
	}
	return 0;
}

static int vm_setup_vcpus(struct ign_vm *vm, uint64_t entry, struct ign_err *err)
{
	int hide_xsave, r;

	if ((r = x86_supported_cpuid(vm->kvm_fd, &vm->cpuid, err)) < 0)
		return r;
	switch (vm->cfg.xsave) {
	case IGN_XSAVE_HOST:
		hide_xsave = 0;
		break;
	case IGN_XSAVE_HIDE:
		hide_xsave = 1;
		break;
	default:
		hide_xsave = x86_host_is_emulated();
		if (hide_xsave)
			log_info("host CPU is QEMU's emulator: hiding XSAVE from the guest");
	}
	int tsc_deadline = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_TSC_DEADLINE_TIMER) > 0;
	if ((r = vm_create_vcpus(vm, err)) < 0)
		return r;
	for (unsigned i = 0; i < vm->cfg.vcpus; i++) {
		struct vcpu *c = &vm->vcpu[i];
		struct x86_vcpu_boot b = {
			.index = i, .nvcpus = vm->cfg.vcpus, .hide_xsave = hide_xsave,
			.tsc_deadline = tsc_deadline,
			.entry = entry, .supported = vm->cpuid,
		};
		if ((r = x86_vcpu_boot_setup(c->fd, &b, err)) < 0)
			return ign_err_wrap(err, "vCPU %u", i);
	}
	return 0;
}

static int vm_setup_devices(struct ign_vm *vm, struct ign_err *err)
{
	int r;

	pio_bus_init(&vm->pio);
	serial_init(&vm->serial, serial_out, serial_irq, vm);
	vm->platform = (struct platform){
		.stop = platform_stop, .boot_marker = platform_boot_marker, .opaque = vm,
	};
	if ((r = pio_bus_add(&vm->pio, SERIAL_COM1_PORT, 8, &serial_pio_ops, &vm->serial)) < 0 ||
	    (r = platform_register(&vm->platform, &vm->pio)) < 0)
		return ign_err_set(err, -r, "port I/O bus");
	if (pipe2(vm->stop_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
		return ign_err_set(err, errno, "pipe");
	return 0;
}

/* ---- virtio devices ---- */

static void virtio_kick_cb(void *opaque, uint32_t events)
{
	struct vm_kick *k = opaque;
	uint64_t n;

	(void)events;
	if (read(k->fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		log_ratelimited(IGN_LOG_WARN, "%s: ioeventfd: %s", k->dev->ops->name,
				strerror(errno));
	virtio_dev_kick(k->dev, k->queue);
}

/* Takes ownership of d: it is destroyed with the VM even when this fails. */
static int vm_add_virtio(struct ign_vm *vm, struct virtio_dev *d, struct ign_err *err)
{
	unsigned last = vm->cfg.no_acpi ? VIRTIO_GSI_LAST_MPTABLE : VIRTIO_GSI_LAST;
	unsigned i = vm->nvirtio;
	int r;

	if (VIRTIO_GSI_FIRST + i > last) {
		d->ops->destroy(d);
		return ign_err_setx(err, ENOSPC, "%s: no interrupt left for a device number %u "
				    "(at most %u virtio devices%s)", d->ops->name, i + 1,
				    last - VIRTIO_GSI_FIRST + 1, vm->cfg.no_acpi ? " with --no-acpi" : "");
	}
	struct vm_virtio *v = &vm->virtio[vm->nvirtio++];
	v->dev = d;
	for (unsigned q = 0; q < VIRTIO_MAX_QUEUES; q++)
		v->kick[q].fd = -1;
	d->base = VIRTIO_MMIO_BASE + (uint64_t)i * VIRTIO_MMIO_SIZE;
	d->gsi = VIRTIO_GSI_FIRST + i;

	if ((d->irqfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0)
		return ign_err_set(err, errno, "%s: eventfd", d->ops->name);
	struct kvm_irqfd irqfd = { .fd = d->irqfd, .gsi = d->gsi };
	if ((r = ign_ioctl(vm->vm_fd, KVM_IRQFD, &irqfd, err)) < 0)
		return ign_err_wrap(err, "%s", d->ops->name);

	for (unsigned q = 0; q < d->ops->nqueues; q++) {
		struct vm_kick *k = &v->kick[q];
		*k = (struct vm_kick){ .dev = d, .queue = q };
		if ((k->fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0)
			return ign_err_set(err, errno, "%s: eventfd", d->ops->name);
		struct kvm_ioeventfd io = {
			.datamatch = q, .addr = d->base + VIRTIO_MMIO_QUEUE_NOTIFY, .len = 4,
			.fd = k->fd, .flags = KVM_IOEVENTFD_FLAG_DATAMATCH,
		};
		if ((r = ign_ioctl(vm->vm_fd, KVM_IOEVENTFD, &io, err)) < 0 ||
		    (r = evloop_add(vm->loop, k->fd, EPOLLIN, virtio_kick_cb, k, err)) < 0)
			return ign_err_wrap(err, "%s queue %u", d->ops->name, q);
	}
	return 0;
}

static int vm_setup_virtio(struct ign_vm *vm, struct ign_err *err)
{
	struct virtio_dev *d;
	int r;

	if ((r = evloop_create(&vm->loop, err)) < 0)
		return r;
	for (unsigned i = 0; i < vm->cfg.ndisks; i++) {
		const struct ign_vm_disk *disk = &vm->cfg.disks[i];
		if ((r = virtio_blk_create(disk->path, disk->readonly, &vm->mem, &d, err)) < 0 ||
		    (r = vm_add_virtio(vm, d, err)) < 0)
			return r;
	}
	if (vm->cfg.rng && ((r = virtio_rng_create(&vm->mem, &d, err)) < 0 ||
			    (r = vm_add_virtio(vm, d, err)) < 0))
		return r;
	if (vm->cfg.vsock_path &&
	    ((r = virtio_vsock_create(vm->cfg.vsock_cid, vm->cfg.vsock_path, &vm->mem, vm->loop,
				      &d, err)) < 0 ||
	     (r = vm_add_virtio(vm, d, err)) < 0))
		return r;
	if ((vm->cfg.net_tap || vm->cfg.net_slot) &&
	    ((r = virtio_net_create(vm->cfg.net_tap, vm->cfg.net_mac, &vm->mem, vm->loop, &d,
				    err)) < 0 ||
	     (r = vm_add_virtio(vm, d, err)) < 0))
		return r;
	for (unsigned i = 0; i < vm->cfg.nshares; i++) {
		const struct ign_vm_share *sh = &vm->cfg.shares[i];
		if ((r = virtio_9p_create(sh->tag, sh->path, sh->readonly, &vm->mem, &d, err)) < 0 ||
		    (r = vm_add_virtio(vm, d, err)) < 0)
			return r;
	}
	return 0;
}

/* The guest's command line: the caller's, plus the devices when there is no DSDT. */
static int vm_compose_cmdline(struct ign_vm *vm, struct ign_err *err)
{
	size_t n = snprintf(vm->cmdline, sizeof(vm->cmdline), "%s",
			    vm->cfg.cmdline ? vm->cfg.cmdline : "");

	for (unsigned i = 0; vm->cfg.no_acpi && i < vm->nvirtio && n < sizeof(vm->cmdline); i++)
		n += snprintf(vm->cmdline + n, sizeof(vm->cmdline) - n,
			      " virtio_mmio.device=4K@0x%llx:%u",
			      (unsigned long long)vm->virtio[i].dev->base, vm->virtio[i].dev->gsi);
	if (n >= sizeof(vm->cmdline))
		return ign_err_setx(err, E2BIG, "kernel command line over %d bytes", CMDLINE_MAX);
	return 0;
}

static void *io_thread(void *arg)
{
	struct ign_vm *vm = arg;

	if (thread_begin(vm, IGN_THREAD_IO, 0) == 0)
		evloop_run(vm->loop, vm->stop_pipe[0]);
	return NULL;
}

static int vm_check_config(const struct ign_vm_config *cfg, struct ign_err *err)
{
	if (!cfg->kernel && !cfg->restore_from)
		return ign_err_setx(err, EINVAL, "no kernel given");
	if (cfg->vcpus < 1 || cfg->vcpus > IGN_VM_MAX_VCPUS)
		return ign_err_setx(err, EINVAL, "%u vCPUs: must be 1 to %d", cfg->vcpus,
				    IGN_VM_MAX_VCPUS);
	if (cfg->mem_mib < IGN_VM_MIN_MEM_MIB || cfg->mem_mib > IGN_VM_MAX_MEM_MIB)
		return ign_err_setx(err, EINVAL, "%llu MiB of memory: must be %d to %d",
				    (unsigned long long)cfg->mem_mib, IGN_VM_MIN_MEM_MIB,
				    IGN_VM_MAX_MEM_MIB);
	return 0;
}

int ign_vm_create(const struct ign_vm_config *cfg, struct ign_vm **out, struct ign_err *err)
{
	struct ign_vm *vm;
	uint64_t entry;
	int r;

	if ((r = vm_check_config(cfg, err)) < 0)
		return r;
	vm = calloc(1, sizeof(*vm));
	if (!vm)
		return ign_err_set(err, ENOMEM, "allocate VM");
	vm->t0_ns = now_ns();
	vm->cfg = *cfg;
	vm->kvm_fd = vm->vm_fd = -1;
	vm->stop_pipe[0] = vm->stop_pipe[1] = -1;
	pthread_mutex_init(&vm->stop_lock, NULL);
	pthread_cond_init(&vm->ctl_cond, NULL);

	if (cfg->restore_from) {
		struct snap_reader rd = { 0 };
		if ((r = vm_setup_kvm(vm, err)) < 0 ||
		    (r = snapshot_open(vm, &rd, err)) < 0 ||
		    (r = vm_setup_memory(vm, err)) < 0 ||
		    (r = vm_setup_devices(vm, err)) < 0 ||
		    (r = vm_setup_virtio(vm, err)) < 0 ||
		    (r = vm_create_vcpus(vm, err)) < 0 ||
		    (r = snapshot_restore(vm, &rd, err)) < 0) {
			ign_vm_destroy(vm);  /* rd's bytes are vm->restored's */
			return r;
		}
		*out = vm;
		return 0;
	}
	if ((r = vm_setup_kvm(vm, err)) < 0 ||
	    (r = vm_setup_memory(vm, err)) < 0 ||
	    (r = vm_setup_devices(vm, err)) < 0 ||
	    (r = vm_setup_virtio(vm, err)) < 0 ||
	    (r = vm_compose_cmdline(vm, err)) < 0 ||
	    (r = vm_load_images(vm, &entry, err)) < 0 ||
	    (r = vm_setup_vcpus(vm, entry, err)) < 0) {
		ign_vm_destroy(vm);
		return r;
	}
	*out = vm;
	return 0;
}

int ign_vm_can_snapshot(const struct ign_vm *vm, struct ign_err *err)
{
	for (unsigned i = 0; i < vm->nvirtio; i++) {
		int r = virtio_dev_can_snapshot(vm->virtio[i].dev, err);
		if (r < 0)
			return ign_err_wrap(err, "snapshot");
	}
	return 0;
}

int ign_vm_run(struct ign_vm *vm, int *status, struct ign_err *err)
{
	struct sigaction sa = { .sa_handler = vcpu_kick_handler };
	sigset_t kick, old;
	pthread_t console, io;
	int r;

	/* No SA_RESTART: the kick must interrupt KVM_RUN with EINTR. */
	sigaction(VCPU_KICK_SIGNAL, &sa, NULL);
	sigemptyset(&kick);
	sigaddset(&kick, VCPU_KICK_SIGNAL);
	pthread_sigmask(SIG_BLOCK, &kick, &old);

	r = pthread_create(&console, NULL, console_thread, vm);
	if (r) {
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		return ign_err_set(err, r, "start console thread");
	}
	r = pthread_create(&io, NULL, io_thread, vm);
	if (r) {
		struct ign_err e;
		ign_err_set(&e, r, "start I/O thread");
		vm_stop_failed(vm, &e);
		pthread_join(console, NULL);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		*err = vm->fail;
		return -vm->fail.code;
	}
	for (unsigned i = 0; i < vm->nvcpus; i++) {
		pthread_mutex_lock(&vm->stop_lock);
		r = vm->stopping ? 0 : pthread_create(&vm->vcpu[i].thread, NULL, vcpu_thread,
						      &vm->vcpu[i]);
		vm->vcpu[i].started = !vm->stopping && r == 0;
		pthread_mutex_unlock(&vm->stop_lock);
		if (r) {
			struct ign_err e;
			ign_err_set(&e, r, "start vCPU %u thread", i);
			vm_stop_failed(vm, &e);
		}
	}
	/* the others run with their own filters: now this thread's (none of theirs) */
	struct ign_err se;
	if (ign_seccomp_apply(vm->cfg.seccomp, IGN_THREAD_CONTROL, &se) < 0)
		vm_stop_failed(vm, &se);
	if (vm->cfg.boot_timer && vm->cfg.restore_from)
		fprintf(stderr, "ign-vmm: restored ms=%.2f (vCPUs running)\n",
			(now_ns() - vm->t0_ns) / 1e6);
	/* this thread takes the snapshots the guest asks for, until the VM ends */
	pthread_mutex_lock(&vm->stop_lock);
	for (;;) {
		while (!vm->snap_req && !vm->stopping)
			pthread_cond_wait(&vm->ctl_cond, &vm->stop_lock);
		if (vm->stopping)
			break;
		vm->snap_req = 0;
		pthread_mutex_unlock(&vm->stop_lock);
		struct ign_err e = { 0 };
		if (vm->cfg.reset_at_marker) {
			if (ign_vm_reset(vm, &e) < 0)
				vm_stop_failed(vm, &e);
		} else if (ign_vm_snapshot(vm, vm->cfg.snapshot_at_marker, &e) < 0) {
			vm_stop_failed(vm, &e);
		} else if (vm->cfg.exit_after_snapshot) {
			vm_stop(vm, 0, NULL);
		}
		vm_resume(vm);  /* after a failure too: stopped by then, the vCPUs leave */
		pthread_mutex_lock(&vm->stop_lock);
	}
	pthread_mutex_unlock(&vm->stop_lock);
	for (unsigned i = 0; i < vm->nvcpus; i++)
		if (vm->vcpu[i].started)
			pthread_join(vm->vcpu[i].thread, NULL);
	pthread_join(console, NULL);
	pthread_join(io, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);

	if (vm->failed) {
		if (err)
			*err = vm->fail;
		return -vm->fail.code;
	}
	*status = vm->status;
	return 0;
}

void ign_vm_kill(struct ign_vm *vm)
{
	struct ign_err e;

	ign_err_setx(&e, ECANCELED, "the VM was stopped by its host");
	vm_stop_failed(vm, &e);
}

void ign_vm_destroy(struct ign_vm *vm)
{
	if (!vm)
		return;
	for (unsigned i = 0; i < vm->nvcpus; i++) {
		if (vm->vcpu[i].run)
			munmap(vm->vcpu[i].run, vm->vcpu[i].run_size);
		if (vm->vcpu[i].fd >= 0)
			close(vm->vcpu[i].fd);
	}
	for (unsigned i = 0; i < vm->nvirtio; i++) {
		struct vm_virtio *v = &vm->virtio[i];
		for (unsigned q = 0; q < VIRTIO_MAX_QUEUES; q++)
			if (v->kick[q].fd >= 0)
				close(v->kick[q].fd);
		if (v->dev->irqfd >= 0)
			close(v->dev->irqfd);
		v->dev->ops->destroy(v->dev);
	}
	evloop_destroy(vm->loop);
	if (vm->mem.hva)
		munmap(vm->mem.hva, vm->mem.size);
	for (int i = 0; i < 2; i++)
		if (vm->stop_pipe[i] >= 0)
			close(vm->stop_pipe[i]);
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	if (vm->kvm_fd >= 0)
		close(vm->kvm_fd);
	for (unsigned i = 0; i < vm->nvcpus; i++)
		free(vm->vcpu[i].saved);
	free(vm->msrs);
	free(vm->cpuid);
	snap_close(&vm->restored);
	free(vm);
}
