#!/bin/sh
# Snapshot benchmark, run where /dev/kvm is (natively, or inside the nested-KVM L1).
# The test guest writes the boot marker and then prints IGN_AFTER_MARKER; a
# snapshot taken at the marker (--snapshot-at-marker) resumes right there. Times,
# from VMM start to IGN_AFTER_MARKER on the console, N runs each:
#   cold    ign-vmm boots the kernel and initramfs
#   restore ign-vmm --restore of that snapshot (memory mapped copy-on-write)
# and prints medians and the cold/restore ratio, plus the time for the VMM to
# have the restored vCPUs running, and the size of the snapshot.
D=${1:?usage: snapshot-in-vm.sh DIR}
N=${IGN_BENCH_RUNS:-7}
CMD="console=ttyS0 reboot=k panic=-1 quiet ign.test=hello"
T=$(mktemp -d)
ARGS="--vcpus 1 --mem 256 --rng"

median() {  # median of field $2 (name=value) in file $1
	sed -n "s/.*$2=\([0-9.-]*\).*/\1/p" "$1" | sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'
}

"$D/ign-vmm" --kernel "$D/vmlinux" --initrd "$D/hello.cpio.gz" --cmdline "$CMD" $ARGS \
	--snapshot-at-marker "$T/base" >"$T/make.log" 2>&1 </dev/null
[ -s "$T/base/state" ] || { echo "bench: no snapshot made:"; cat "$T/make.log"; exit 1; }
i=0
while [ $i -lt "$N" ]; do
	"$D/boottime" IGN_AFTER_MARKER "$D/ign-vmm" --kernel "$D/vmlinux" --initrd "$D/hello.cpio.gz" \
		--cmdline "$CMD" $ARGS >>"$T/cold" 2>/dev/null </dev/null
	"$D/boottime" IGN_AFTER_MARKER "$D/ign-vmm" --restore "$T/base" $ARGS --boot-timer \
		>>"$T/restore" 2>"$T/restore.log" </dev/null
	grep -o 'restored ms=[0-9.]*' "$T/restore.log" >>"$T/running"
	i=$((i + 1))
done
c=$(median "$T/cold" marker_ms)
r=$(median "$T/restore" marker_ms)
echo "bench: snapshot at the marker vs cold boot, median of $N runs, 1 vCPU, 256 MiB, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) CPUs"
echo "bench: cold boot to the marker    $c ms ($(grep -c -v 'rc=0' "$T/cold") of $N runs failed)"
echo "bench: restore to the marker      $r ms ($(grep -c -v 'rc=0' "$T/restore") of $N runs failed); vCPUs running after $(median "$T/running" ms) ms"
echo "bench: snapshot: memory file $(du -k "$T/base/memory" | cut -f1) KiB on disk of $(($(stat -c %s "$T/base/memory") >> 10)) KiB, state $(stat -c %s "$T/base/state") bytes"
awk -v a="$c" -v b="$r" 'BEGIN { if (b > 0) printf "bench: ratio cold boot / restore: %.1fx\n", a / b }'
rm -rf "$T"
