#!/bin/sh
# Snapshot benchmark, run where /dev/kvm is (natively, or inside the nested-KVM L1).
# The test guest writes the boot marker and then prints IGN_AFTER_MARKER; a
# snapshot taken at the marker (--snapshot-at-marker) resumes right there. Times,
# from VMM start to IGN_AFTER_MARKER on the console, N runs each:
#   cold    ign-vmm boots the kernel and initramfs
#   restore ign-vmm --restore of that snapshot (memory mapped copy-on-write)
# and prints medians and the cold/restore ratio, plus the time for the VMM to
# have the restored vCPUs running, and the size of the snapshot. Then restore
# latency against the working set the snapshot holds (IGN_BENCH_TOUCH, MiB
# the guest wrote before the save: 0, 64, 192). Then memory
# per clone: ign-init saved while it waits for its root (a warm base, 256 MiB),
# restored K times at once (K = 10, 50; IGN_BENCH_CLONES), each clone's RSS
# and PSS (smaps_rollup) once all are idle.
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

# Restore latency as the snapshot's working set grows: the guest writes W MiB
# before the marker; pages load when touched, so the restore should stay flat.
first=
for w in ${IGN_BENCH_TOUCH:-0 64 192}; do
	"$D/ign-vmm" --kernel "$D/vmlinux" --initrd "$D/hello.cpio.gz" --cmdline "$CMD ign.touch=$w" \
		$ARGS --snapshot-at-marker "$T/ws$w" >"$T/ws.log" 2>&1 </dev/null
	[ -s "$T/ws$w/state" ] || { echo "bench: no snapshot with $w MiB touched:"; cat "$T/ws.log"; continue; }
	: >"$T/wsr"
	i=0
	while [ $i -lt "$N" ]; do
		"$D/boottime" IGN_AFTER_MARKER "$D/ign-vmm" --restore "$T/ws$w" $ARGS >>"$T/wsr" 2>/dev/null </dev/null
		i=$((i + 1))
	done
	m=$(median "$T/wsr" marker_ms)
	first=${first:-$m}
	echo "bench: restore to the marker, $w MiB written before the save: $m ms (memory file $(du -k "$T/ws$w/memory" | cut -f1) KiB on disk, $(grep -c -v 'rc=0' "$T/wsr") of $N failed); $(awk -v a="$m" -v b="$first" 'BEGIN { printf "%.2fx", a / b }') the first"
	rm -rf "$T/ws$w"
done

"$D/ign-vmm" --kernel "$D/vmlinux" --initrd "$D/ign-init.cpio.gz" --cmdline \
	"console=ttyS0 reboot=k panic=-1 quiet ign.root=wait" --vcpus 1 --mem 256 --rng \
	--vsock "$T/v-base" --snapshot-at-marker "$T/warm" >"$T/warm.log" 2>&1 </dev/null &
wpid=$!
i=0
while [ ! -s "$T/warm/state" ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
kill $wpid 2>/dev/null
wait $wpid 2>/dev/null
[ -s "$T/warm/state" ] || { echo "bench: no warm base made:"; cat "$T/warm.log"; rm -rf "$T"; exit 1; }
for k in ${IGN_BENCH_CLONES:-10 50}; do
	pids=
	j=0
	while [ $j -lt "$k" ]; do
		"$D/ign-vmm" --restore "$T/warm" --vcpus 1 --mem 256 --rng --vsock "$T/v$j" \
			>"$T/c$j.log" 2>&1 </dev/null &
		pids="$pids $!"
		j=$((j + 1))
	done
	sleep $((3 + k / 5))  # all restored and idle (ign-init waits on vsock)
	alive=0 rss=0 pss=0
	for p in $pids; do
		[ -r "/proc/$p/smaps_rollup" ] || continue
		alive=$((alive + 1))
		rss=$((rss + $(awk '/^Rss:/ {print $2}' "/proc/$p/smaps_rollup")))
		pss=$((pss + $(awk '/^Pss:/ {print $2}' "/proc/$p/smaps_rollup")))
	done
	kill $pids 2>/dev/null
	wait 2>/dev/null
	if [ "$alive" -lt "$k" ]; then  # what ended a clone early
		for f in "$T"/c*.log; do
			grep -q -i 'error\|ign-vmm:' "$f" && { echo "bench: a clone ended: $(grep -i -m1 'error\|ign-vmm:' "$f")"; break; }
		done
	fi
	rm -f "$T"/c*.log "$T"/v[0-9]*  # logs, and the sockets the killed clones leave
	[ "$alive" -gt 0 ] || { echo "bench: $k clones: none alive"; continue; }
	echo "bench: $k clones of a 256 MiB warm base at once ($alive alive): per clone RSS $((rss / alive)) KiB, PSS $((pss / alive)) KiB; all clones PSS $((pss / 1024)) MiB"
done
rm -rf "$T"
