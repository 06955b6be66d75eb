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
mv "$stage/rootfs" "$stage/ign/rootfs"  # the runtime and podman suites' bundles and image
# ign-runtime as `make install` lays it out: bin/ and share/ign-runtime/.
mkdir -p "$stage/ign/prefix/bin" "$stage/ign/prefix/share/ign-runtime"
cp "$build/bin/ign-runtime" "$build/bin/ign-shim" "$stage/ign/prefix/bin/"
cp "$kdir/vmlinux" "$build/share/ign-runtime/ign-init.cpio.gz" "$stage/ign/prefix/share/ign-runtime/"
cp "$build/tests/consock" "$stage/ign/"
if [ "$script" = cases ]; then
	cp "$here"/*.sh "$stage/ign/"
	{
		echo 'D=${1:?usage: cases.sh DIR}'
		echo '. "$D/lib.sh"'
		for s in ${IGN_VM_SUITES:-devices snapshot e2e runtime podman}; do echo ". \"\$D/$s.sh\""; done
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

# ---- nested: L1 boots the installed Debian kernel with a small initramfs that
# mounts this machine's root read-only over virtio-9p (l1-init) ----
l1_kernel=$(ls -1 /boot/vmlinuz-*-amd64 2>/dev/null | sort -V | tail -n 1)
[ -n "$l1_kernel" ] || { echo "vm tests: no /boot/vmlinuz-*-amd64 (apt-get install linux-image-amd64)" >&2; exit 1; }
kver=${l1_kernel#/boot/vmlinuz-}
command -v qemu-system-x86_64 >/dev/null || { echo "vm tests: qemu-system-x86_64 missing (apt-get install qemu-system-x86)" >&2; exit 1; }
[ -x /bin/busybox ] || { echo "vm tests: /bin/busybox missing (apt-get install busybox-static)" >&2; exit 1; }

root=$stage/l1
mkdir -p "$root"/{bin,proc,sys,dev,mods}
cp /bin/busybox "$root/bin/"
cp "$here/l1-init" "$root/init"
cp "$here/l1-stage2" "$stage/"
# The 9p client and its dependencies, in load order.
i=0
for f in $(for m in 9p 9pnet_virtio virtio_pci; do modprobe -S "$kver" --show-depends "$m"; done |
	   awk '$1 == "insmod" && !seen[$2]++ { print $2 }'); do
	i=$((i + 1))
	name=$(printf '%02d-%s' "$i" "$(basename "$f")")
	case $f in
	*.xz) xz -dc "$f" >"$root/mods/${name%.xz}" ;;
	*.zst) zstd -qdc "$f" >"$root/mods/${name%.zst}" ;;
	*) cp "$f" "$root/mods/$name" ;;
	esac
done
(cd "$root" && find . | cpio -o -H newc --quiet -R 0:0) | gzip -1 >"$stage/l1.cpio.gz"

l1_boot() {
	timeout "${IGN_L1_TIMEOUT:-1200}" qemu-system-x86_64 -accel tcg -cpu max -m 3G -smp 2 \
		-nographic -no-reboot -kernel "$l1_kernel" -initrd "$stage/l1.cpio.gz" \
		-virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on \
		-append "console=ttyS0 quiet panic=-1 ign.stage=$stage" </dev/null
}

echo "vm tests: no usable /dev/kvm here; nested KVM in an L1 guest under QEMU TCG (-cpu max, AMD SVM), L1 kernel $kver"
for attempt in 1 2; do
	start=$(date +%s)
	set +e
	# A soft lockup of L1 under the emulator (seen now and then, never
	# recovering) ends the attempt at once rather than at the timeout.
	: >"$stage/l1.log"
	l1_boot >>"$stage/l1.log" 2>&1 &
	qpid=$!
	tail -n +1 -f --pid=$qpid "$stage/l1.log" | grep --line-buffered -v -E '^\s*$' &
	tpid=$!
	while kill -0 $qpid 2>/dev/null; do
		if grep -a -q 'BUG: soft lockup' "$stage/l1.log"; then
			echo "vm tests: L1 locked up under the emulator; stopping this attempt"
			pkill -P $qpid 2>/dev/null; kill $qpid 2>/dev/null
			break
		fi
		sleep 5
	done
	wait $qpid
	qrc=$?
	wait $tpid 2>/dev/null
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
