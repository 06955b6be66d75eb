#!/bin/bash
# Snapshot benchmark (bench/snapshot-in-vm.sh): cold boot against restore from a
# snapshot, natively when /dev/kvm is usable, otherwise inside the nested-KVM L1
# guest (absolute times there are far from native; read the ratio).
# usage: bench/snapshot.sh BUILD_DIR KERNEL_DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export IGN_L1_BUDGET=${IGN_L1_BUDGET:-900}
exec "$here/../tests/vm/run.sh" "$1" "$2" "$here/snapshot-in-vm.sh"
