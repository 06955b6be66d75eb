#!/bin/bash
# Every test: the criterion unit tests (ctest), the fuzz targets for a bounded
# time (tests/fuzz/run.sh), then the VM end-to-end tests (tests/vm/run.sh:
# native /dev/kvm, or nested KVM under QEMU when absent).
# usage: tests/check.sh BUILD_DIR KERNEL_DIR
set -uo pipefail
build=${1:?usage: check.sh BUILD_DIR KERNEL_DIR}
kdir=${2:?usage: check.sh BUILD_DIR KERNEL_DIR}
here=$(cd "$(dirname "$0")" && pwd)
log=$(mktemp)
trap 'rm -f "$log"' EXIT

(cd "$build" && ctest --output-on-failure) 2>&1 | tee "$log"
unit_rc=${PIPESTATUS[0]}
unit_total=$(grep -o 'out of [0-9]*' "$log" | tail -n 1 | grep -o '[0-9]*$')
unit_failed=$(grep -o '[0-9]* tests failed' "$log" | tail -n 1 | grep -o '^[0-9]*')

"$here/fuzz/run.sh" 2>&1 | tee "$log"
fuzz_rc=${PIPESTATUS[0]}
fuzz_passed=$(grep -c '^fuzz: .* ok:' "$log")
fuzz_failed=$(grep -c '^fuzz: .* FAILED' "$log")
figures=$(grep -a '^fuzz: [0-9]* targets' "$log")
[ "$fuzz_rc" = 0 ] || [ "$fuzz_failed" -gt 0 ] || fuzz_failed=1

"$here/vm/run.sh" "$build" "$kdir" 2>&1 | tee "$log"
vm_rc=${PIPESTATUS[0]}
vm_line=$(grep -a -o '[0-9]* passed, [0-9]* failed' "$log" | tail -n 1)
vm_passed=${vm_line%% passed*}
vm_failed=$(echo "$vm_line" | grep -o '[0-9]* failed' | grep -o '[0-9]*')
figures=$(printf '%s\n%s' "$figures" "$(grep -a -o 'IGN_FIGURE .*' "$log" | cut -d' ' -f2-)")

passed=$(( ${unit_total:-0} - ${unit_failed:-0} + fuzz_passed + ${vm_passed:-0} ))
failed=$(( ${unit_failed:-0} + fuzz_failed + ${vm_failed:-0} ))
[ "$unit_rc" = 0 ] || [ "$failed" -gt 0 ] || failed=1
[ "$vm_rc" = 0 ] || [ "${vm_failed:-0}" -gt 0 ] || failed=$((failed + 1))
echo "figures:"
echo "$figures" | grep . | sed 's/^/  /'
echo "unit test binaries: $(( ${unit_total:-0} - ${unit_failed:-0} ))/${unit_total:-0} passed; fuzz targets: $fuzz_passed passed, $fuzz_failed failed; VM cases: ${vm_passed:-0} passed, ${vm_failed:-0} failed"
echo "$passed passed, $failed failed"
[ "$unit_rc" = 0 ] && [ "$fuzz_rc" = 0 ] && [ "$vm_rc" = 0 ]
