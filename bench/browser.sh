#!/bin/bash
# Browser benchmark (bench/browser-in-vm.sh): Firefox cold-booted to its
# painted homepage against a warm clone to its first frame of it, and memory
# per session with several at once. Natively when /dev/kvm is usable,
# otherwise in the nested L1 (minutes; absolute times far from native).
# usage: bench/browser.sh BUILD_DIR KERNEL_DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export IGN_L1_BUDGET=${IGN_L1_BUDGET:-3600}
exec "$here/../tests/vm/run.sh" "$1" "$2" "$here/browser-in-vm.sh"
