#!/bin/sh
# Boot benchmark, run where /dev/kvm is (natively, or inside the nested-KVM L1).
# Times VMM start -> the guest's init printing IGN_HELLO, N runs each:
#   ign-vmm + vmlinux, ign-vmm + bzImage, QEMU -M microvm + bzImage (same kernel,
#   same initramfs, same command line, 1 vCPU, 128 MiB), and prints medians and ratios.
# The guest powers off through ACPI after the marker, which both VMMs handle.
D=${1:?usage: boot-in-vm.sh DIR}
export PATH="$PATH:/usr/bin:/usr/local/bin"
N=${IGN_BENCH_RUNS:-7}
CMD="console=ttyS0 reboot=k panic=-1 quiet ign.test=poweroff"
NQ=${IGN_BENCH_QEMU_RUNS:-$N}
T=$(mktemp -d)
QCPU=host
grep -q 'TCG' /proc/cpuinfo 2>/dev/null && QCPU=host,-xsave  # nested: as ign-vmm --xsave auto

run() {  # run NAME CMD...: one timed boot, result line appended to $T/NAME
	name=$1
	shift
	timeout "${IGN_BENCH_TIMEOUT:-120}" "$D/boottime" IGN_HELLO "$@" 2>"$T/$name.log" </dev/null >>"$T/$name" ||
		echo "bench: $name run $i: no result within ${IGN_BENCH_TIMEOUT:-120}s" >&2
	grep -o 'boot-marker.*' "$T/$name.log" >>"$T/$name.vmm"
}

median() {  # median of field $2 (name=value) in file $1
	sed -n "s/.*$2=\([0-9.-]*\).*/\1/p" "$1" | sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'
}

i=0
while [ $i -lt "$N" ]; do
	run ign-vmlinux "$D/ign-vmm" --kernel "$D/vmlinux" --initrd "$D/hello.cpio.gz" --cmdline "$CMD" --boot-timer
	run ign-bzimage "$D/ign-vmm" --kernel "$D/bzImage" --initrd "$D/hello.cpio.gz" --cmdline "$CMD" --boot-timer
	if [ "${IGN_BENCH_QEMU:-1}" = 1 ] && [ $i -lt "$NQ" ] && command -v qemu-system-x86_64 >/dev/null; then
		run qemu-microvm qemu-system-x86_64 -M microvm -accel kvm -cpu "$QCPU" -m 128 -smp 1 \
			-nodefaults -no-user-config -nographic -no-reboot -serial stdio \
			-kernel "$D/bzImage" -initrd "$D/hello.cpio.gz" -append "$CMD"
	fi
	i=$((i + 1))
done

echo "bench: boot to init marker, median of $N runs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) CPUs"
for c in ign-vmlinux ign-bzimage qemu-microvm; do
	[ -s "$T/$c" ] || continue
	bad=$(grep -c -v 'rc=0' "$T/$c")
	printf 'bench: %-13s %8s ms to init, process RSS at marker %6s KiB (%s of %s runs failed)\n' \
		"$c" "$(median "$T/$c" marker_ms)" "$(median "$T/$c" rss_kib)" "$bad" "$(wc -l <"$T/$c")"
done
if [ -s "$T/ign-vmlinux.vmm" ]; then
	echo "bench: ign-vmm own resident memory outside guest RAM: $(median "$T/ign-vmlinux.vmm" vmm_rss_kib) KiB (median)"
fi
if [ -s "$T/qemu-microvm" ]; then
	q=$(median "$T/qemu-microvm" marker_ms)
	for c in ign-vmlinux ign-bzimage; do
		awk -v a="$(median "$T/$c" marker_ms)" -v b="$q" -v c="$c" \
			'BEGIN { printf "bench: ratio qemu-microvm / %s boot time: %.2fx\n", c, b / a }'
	done
fi
rm -rf "$T"
