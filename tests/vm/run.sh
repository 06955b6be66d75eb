#!/bin/bash
# Runs the end-to-end VM tests (cases.sh) where /dev/kvm is: natively when this
# machine has it, otherwise inside an "L1" Linux guest under QEMU's emulator with
# emulated AMD SVM, whose kvm-amd gives a nested /dev/kvm (docs/testing.md).
#
# usage: tests/vm/run.sh BUILD_DIR KERNEL_DIR [cases|demo|SCRIPT]
#   BUILD_DIR   cmake build tree (ign-vmm, ign-init.cpio.gz, ign-agentctl...)
#   KERNEL_DIR  images/kernel/build.sh's output (vmlinux, bzImage)
#   cases       the VM test suites (default): devices.sh, then e2e.sh;
#               IGN_VM_SUITES="e2e" picks some. demo: the demo; or a path to
#               another script (bench/boot-in-vm.sh), run the same way
# IGN_NESTED=1 forces the nested path even with /dev/kvm. The test rootfs
# image is built with ign-mkimage into the image cache (IGN_CACHE, default
# ~/.cache/ign-runtime), outside the tree.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
build=${1:?usage: run.sh BUILD_DIR KERNEL_DIR}
kdir=${2:?usage: run.sh BUILD_DIR KERNEL_DIR}
script=${3:-cases}
case $script in cases) ;; */*) ;; *) script=$here/$script.sh ;; esac
[ "$script" = cases ] || [ -f "$script" ] || { echo "run.sh: no script $script" >&2; exit 2; }
cache=${IGN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ign-runtime}

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/ign"
cp "$build/vmm/ign-vmm" "$build/images/hello/hello.cpio.gz" "$build/images/hello/tools.cpio.gz" \
	"$build/images/init/ign-init.cpio.gz" "$build/shim/ign-agentctl" "$build/tests/vsockcat" \
	"$kdir/vmlinux" "$kdir/bzImage" \
	"$stage/ign/"
# The e2e root: busybox + vsockcat + ignbench, as erofs and as ext4, through the image cache.
"$top/images/busybox/mkrootfs.sh" "$stage/rootfs" "$build/tests/vsockcat" "$build/bench/ignbench"
for fs in erofs ext4; do
	img=$("$build/runtime/ign-mkimage" --quiet --fs $fs --cache "$cache/images" "$stage/rootfs")
	cp "$img" "$stage/ign/rootfs.$fs"
done
rm -rf "$stage/rootfs"
if [ "$script" = cases ]; then
	cp "$here/lib.sh" "$here/devices.sh" "$here/e2e.sh" "$stage/ign/"
	{
		echo 'D=${1:?usage: cases.sh DIR}'
		echo '. "$D/lib.sh"'
		for s in ${IGN_VM_SUITES:-devices e2e}; do echo ". \"\$D/$s.sh\""; done
		echo 'finish'
	} >"$stage/ign/cases.sh"
else
	cp "$script" "$stage/ign/cases.sh"
fi
for b in boottime ignbench; do
	if [ -x "$build/bench/$b" ]; then cp "$build/bench/$b" "$stage/ign/"; fi
done

kvm_usable() {
	[ -c /dev/kvm ] && [ -r /dev/kvm ] && [ -w /dev/kvm ]
}

if [ "${IGN_NESTED:-0}" != 1 ] && kvm_usable; then
	echo "vm tests: native /dev/kvm"
	rc=0
	sh "$stage/ign/cases.sh" "$stage/ign" || rc=$?
	exit $rc
fi

# ---- nested: build the L1 initramfs from the installed Debian kernel ----
l1_kernel=$(ls -1 /boot/vmlinuz-*-amd64 2>/dev/null | sort -V | tail -n 1)
[ -n "$l1_kernel" ] || { echo "vm tests: no /boot/vmlinuz-*-amd64 (apt-get install linux-image-amd64)" >&2; exit 1; }
kver=${l1_kernel#/boot/vmlinuz-}
mods=/lib/modules/$kver/kernel
command -v qemu-system-x86_64 >/dev/null || { echo "vm tests: qemu-system-x86_64 missing (apt-get install qemu-system-x86)" >&2; exit 1; }
[ -x /bin/busybox ] || { echo "vm tests: /bin/busybox missing (apt-get install busybox-static)" >&2; exit 1; }

root=$stage/l1
mkdir -p "$root"/{bin,proc,sys,dev,tmp,mods}
cp /bin/busybox "$root/bin/"
cp "$here/l1-init" "$root/init"
mv "$stage/ign" "$root/ign"
for m in virt/lib/irqbypass drivers/crypto/ccp/ccp arch/x86/kvm/kvm arch/x86/kvm/kvm-amd drivers/net/tun; do
	f=$(ls "$mods/$m".ko* | head -n 1)
	case $f in
	*.xz) xz -dc "$f" >"$root/mods/$(basename "$m").ko" ;;
	*.zst) zstd -qdc "$f" >"$root/mods/$(basename "$m").ko" ;;
	*) cp "$f" "$root/mods/" ;;
	esac
done
# Benchmarks compare against QEMU microvm inside L1: take QEMU, its libraries
# and the firmware it boots microvm with.
if [ "${IGN_L1_QEMU:-0}" = 1 ]; then
	q=$(command -v qemu-system-x86_64)
	for f in "$q" $(ldd "$q" | grep -o '/[^ ]*'); do
		mkdir -p "$root$(dirname "$f")"
		cp -L "$f" "$root$f"
	done
	mkdir -p "$root/usr/share/qemu"
	cp /usr/share/qemu/{bios-microvm.bin,linuxboot_dma.bin,qboot.rom} "$root/usr/share/qemu/"
fi
(cd "$root" && find . | cpio -o -H newc --quiet -R 0:0) | gzip -1 >"$stage/l1.cpio.gz"

l1_boot() {
	timeout "${IGN_L1_TIMEOUT:-420}" qemu-system-x86_64 -accel tcg -cpu max -m 2G -smp 2 \
		-nographic -no-reboot -kernel "$l1_kernel" -initrd "$stage/l1.cpio.gz" \
		-append "console=ttyS0 quiet panic=-1" </dev/null
}

echo "vm tests: no usable /dev/kvm here; nested KVM in an L1 guest under QEMU TCG (-cpu max, AMD SVM), L1 kernel $kver"
for attempt in 1 2; do
	start=$(date +%s)
	set +e
	l1_boot 2>&1 | tee "$stage/l1.log" | grep -v -E '^\s*$'
	qrc=${PIPESTATUS[0]}
	set -e
	secs=$(( $(date +%s) - start ))
	cp "$stage/l1.log" "$build/vm-l1-attempt$attempt.log" 2>/dev/null || true  # for post-mortems
	result=$(grep -a -o 'IGN_L1_RESULT rc=[0-9]*' "$stage/l1.log" | tail -n 1 || true)
	if [ -n "$result" ]; then
		echo "vm tests: L1 run took ${secs}s"
		exit "${result#IGN_L1_RESULT rc=}"
	fi
	# The cases finished and printed their verdict, but L1 hung before reporting.
	summary=$(grep -a -o 'vm: [0-9]* passed, [0-9]* failed' "$stage/l1.log" | tail -n 1 || true)
	if [ -n "$summary" ]; then
		echo "vm tests: L1 hung after the cases finished (qemu status $qrc after ${secs}s); verdict: $summary"
		case $summary in *", 0 failed") exit 0 ;; *) exit 1 ;; esac
	fi
	# No result line: the emulator or the L1 guest died, not a test verdict.
	echo "vm tests: the L1 emulator died before reporting (qemu status $qrc after ${secs}s)"
	if [ "$attempt" = 1 ]; then
		echo "vm tests: retrying the L1 run once"
	fi
done
echo "vm tests: L1 failed twice; no verdict"
exit 1
