#!/bin/sh
# I/O benchmark, run where /dev/kvm is (natively, or inside the nested-KVM L1).
# One guest (ign-init on the busybox root, 2 vCPUs, 512 MiB) whose main
# process idles while ign-agentctl --exec runs the measurements in it:
#   blk      sequential read of a 256 MiB virtio-blk disk, guest page cache dropped
#   vsock    64 MiB guest -> host and host -> guest through a stdio stream
#            (guest socket, virtio-vsock, the VMM, the AF_UNIX socket, ign-agentctl)
#   exit     a guest port read handled by the VMM: one VM exit round trip (ns)
#   exec     ign-agentctl --exec -- true, host wall time: connect, spawn, attach
#            three streams, start, exit message
# Medians of N runs (default 3); the machine is printed first. No peer VMM
# is measured here yet (QEMU would need vhost-vsock in L1).
D=${1:?usage: io-in-vm.sh DIR}
N=${IGN_BENCH_RUNS:-3}
T=$(mktemp -d)
A="$D/ign-agentctl --vsock $T/vm.sock"

median() {  # median of field $2 (name=value) in file $1
	sed -n "s/.*$2=\([0-9.-]*\).*/\1/p" "$1" | sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'
}

nested=
grep -q 'TCG' /proc/cpuinfo 2>/dev/null && nested=", nested KVM under QEMU TCG (absolute figures ~10x native or worse)"
echo "bench: machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) CPUs, $(uname -r)$nested"
dd if=/dev/urandom of="$T/data.img" bs=1M count=256 2>/dev/null
"$D/ign-vmm" --kernel "$D/vmlinux" --initrd "$D/ign-init.cpio.gz" --vcpus 2 --mem 512 \
	--cmdline "console=ttyS0 reboot=k panic=-1 quiet" --vsock "$T/vm.sock" \
	--disk "$D/rootfs.erofs,ro" --disk "$T/data.img,ro" >"$T/console" 2>&1 </dev/null &
vmm=$!
$A -- sleep 100000 >/dev/null 2>&1 &
main=$!
i=0
while [ $i -lt "$N" ]; do
	$A --exec -- sh -c 'echo 3 >/proc/sys/vm/drop_caches; ignbench read /dev/vdb' >>"$T/blk" 2>&1
	$A --exec -- ignbench source 67108864 2>>"$T/out" >/dev/null
	"$D/ignbench" source 134217728 2>/dev/null | $A --exec -- ignbench sink >>"$T/in" 2>&1
	$A --exec -- ignbench exitlat 20000 >>"$T/exit" 2>&1
	"$D/ignbench" time $A --exec -- true 2>>"$T/exec"
	i=$((i + 1))
done
$A --kill main 9 >/dev/null 2>&1
wait $main
wait $vmm

echo "bench: median of $N runs in one guest"
printf 'bench: blk sequential read        %8s MB/s\n' "$(median "$T/blk" read_mbps)"
printf 'bench: vsock guest -> host        %8s MB/s\n' "$(median "$T/out" source_mbps)"
printf 'bench: vsock host -> guest        %8s MB/s\n' "$(median "$T/in" sink_mbps)"
printf 'bench: VM exit round trip (PIO)   %8s ns\n' "$(median "$T/exit" exit_ns)"
printf 'bench: exec round trip (true)     %8s us\n' "$(median "$T/exec" time_us)"
for f in blk out in exit exec; do
	grep -q '=' "$T/$f" || { echo "bench: no $f figures:"; cat "$T/$f"; tail -n 20 "$T/console"; }
done
rm -rf "$T"
