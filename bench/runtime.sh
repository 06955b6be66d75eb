#!/bin/bash
# Container start benchmark (bench/runtime-in-vm.sh): create+start+exit of a
# hello bundle with ign-runtime against runc and crun on the same rootfs, in
# the same run. Natively when /dev/kvm is usable, otherwise in the nested L1.
# usage: bench/runtime.sh BUILD_DIR KERNEL_DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export IGN_L1_BUDGET=${IGN_L1_BUDGET:-900}
exec "$here/../tests/vm/run.sh" "$1" "$2" "$here/runtime-in-vm.sh"
