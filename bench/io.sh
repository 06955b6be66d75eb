#!/bin/bash
# I/O benchmark (bench/io-in-vm.sh): blk and vsock throughput, VM exit and exec
# round trips. Natively when /dev/kvm is usable, otherwise in the nested L1.
# usage: bench/io.sh BUILD_DIR KERNEL_DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export IGN_L1_BUDGET=${IGN_L1_BUDGET:-900}
exec "$here/../tests/vm/run.sh" "$1" "$2" "$here/io-in-vm.sh"
