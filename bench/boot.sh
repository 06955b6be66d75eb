#!/bin/bash
# Boot benchmark: ign-vmm against QEMU -M microvm on the same kernel and initramfs.
# Natively when /dev/kvm is usable, otherwise inside the nested-KVM L1 guest (absolute
# times there are ~10x native; the ratio is the figure to read).
# usage: bench/boot.sh BUILD_DIR KERNEL_DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export IGN_L1_BUDGET=${IGN_L1_BUDGET:-900}
exec "$here/../tests/vm/run.sh" "$1" "$2" "$here/boot-in-vm.sh"
