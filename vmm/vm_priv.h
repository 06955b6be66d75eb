/* SPDX-License-Identifier: Apache-2.0 */
/*
 * struct ign_vm's insides, shared by vm.c (create, run, vCPU threads) and
 * snapshot/snapshot.c (save and restore). Nothing else includes this.
 */
#ifndef IGN_VM_PRIV_H
#define IGN_VM_PRIV_H

#include <linux/kvm.h>
#include <pthread.h>
#include <stdint.h>

#include "arch/x86/state.h"
#include "devices/pio.h"
#include "devices/platform.h"
#include "devices/serial.h"
#include "evloop.h"
#include "ign/vmm.h"
#include "mem.h"
#include "snapshot/snapfile.h"
#include "virtio/mmio.h"

#define KVM_TSS_ADDR 0xfffbd000UL
#define KERNEL_MAX_BYTES (512ULL << 20)
#define INITRD_MAX_BYTES (2ULL << 30)
#define VCPU_KICK_SIGNAL SIGUSR1
#define VIRTIO_MMIO_BASE 0xd0000000ULL
#define VIRTIO_GSI_FIRST 5
#define VIRTIO_GSI_LAST_MPTABLE 15
#define VIRTIO_GSI_LAST 23
#define VM_MAX_VIRTIO (VIRTIO_GSI_LAST - VIRTIO_GSI_FIRST + 1)
#define CMDLINE_MAX 4096

struct vcpu {
	struct ign_vm *vm;
	unsigned index;
	int fd;
	struct kvm_run *run;
	size_t run_size;
	pthread_t thread;
	int started;
	/* a pause for a snapshot: the vCPU thread saves its own state here */
	struct x86_vcpu_state *saved;
	uint64_t save_gen;           /* the last vm->save_gen this vCPU saved for */
	int save_rc;
	struct ign_err save_err;
};

struct vm_kick {
	struct virtio_dev *dev;
	unsigned queue;
	int fd;              /* ioeventfd on the queue's QueueNotify write */
};

struct vm_virtio {
	struct virtio_dev *dev;
	struct vm_kick kick[VIRTIO_MAX_QUEUES];
};

struct ign_vm {
	struct ign_vm_config cfg;
	int kvm_fd, vm_fd;
	struct guest_mem mem;
	int mem_from_file;   /* RAM is a private mapping of a snapshot's memory file */
	uint32_t restored_crc;  /* that snapshot's state CRC: a diff names its parent by it */
	struct snap_reader restored;  /* that state file, whole: a reset reads it again */
	struct kvm_cpuid2 *cpuid;
	unsigned nvcpus;
	struct vcpu vcpu[IGN_VM_MAX_VCPUS];
	struct pio_bus pio;
	struct serial serial;
	struct platform platform;
	struct evloop *loop;
	struct vm_virtio virtio[VM_MAX_VIRTIO];
	unsigned nvirtio;
	char cmdline[CMDLINE_MAX];
	int stop_pipe[2];
	pthread_mutex_t stop_lock;   /* also guards the pause and request fields */
	pthread_cond_t ctl_cond;     /* stopping, snap_req, npaused changed */
	int stopping, status, failed;
	struct ign_err fail;
	uint64_t t0_ns;
	int snap_req;                /* the guest wrote the boot marker: snapshot now */
	int snap_asked;              /* the one snapshot at the marker was asked for */
	int pause_req;               /* vCPUs: stop and wait */
	uint64_t save_gen;           /* bumped: paused vCPUs save their state */
	unsigned npaused, nsaved;
	uint32_t *msrs;              /* KVM's MSR list for saving vCPUs */
	unsigned nmsrs;
};

/*
 * Stops every running vCPU outside the guest (pending I/O completed); with
 * save, each then reads its state into vcpu->saved (on its own thread). Returns <0 if the VM
 * stopped meanwhile. vm_resume lets them go on.
 */
int vm_pause(struct ign_vm *vm, int save, struct ign_err *err);
/* Ends the VM with a failure (ign_vm_run returns err). */
void vm_stop_failed(struct ign_vm *vm, const struct ign_err *err);
void vm_resume(struct ign_vm *vm);

#endif
