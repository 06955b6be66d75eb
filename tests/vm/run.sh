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
# IGN_CASE_TIMEOUT and IGN_BENCH_* reach the cases and benches, also in L1.
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
	"$build/tests/ign-snapcmp" "$kdir/vmlinux" "$kdir/bzImage" \
	"$stage/ign/"
# The e2e root: busybox + vsockcat + ignbench, as erofs and as ext4, through the image cache.
"$top/images/busybox/mkrootfs.sh" "$stage/rootfs" "$build/tests/vsockcat" "$build/bench/ignbench"
for fs in erofs ext4; do
	img=$("$build/bin/ign-mkimage" --quiet --fs $fs --cache "$cache/images" "$stage/rootfs")
	cp "$img" "$stage/ign/rootfs.$fs"
done
mv "$stage/rootfs" "$stage/ign/rootfs"  # the runtime and podman suites' bundles and image
# ign-runtime as `make install` lays it out: bin/ and share/ign-runtime/.
mkdir -p "$stage/ign/prefix/bin" "$stage/ign/prefix/share/ign-runtime"
cp "$build/bin/ign-runtime" "$build/bin/ign-shim" "$build/bin/ign-mkimage" "$stage/ign/prefix/bin/"
cp "$kdir/vmlinux" "$build/share/ign-runtime/ign-init.cpio.gz" "$stage/ign/prefix/share/ign-runtime/"
cp "$build/tests/consock" "$stage/ign/"
# cases.sh runs the suites that $D/suites names, each between suite_begin and
# suite_end; a nested retry rewrites that file with the unfinished ones.
suites=${IGN_VM_SUITES:-devices snapshot e2e runtime podman browser}
# The browser suite's image (images/browser/build.sh: cached, built as root)
# and its root image, made here into the cache; the suite links it into its own.
case " $suites " in *" browser "*)
	sudo=$([ "$(id -u)" = 0 ] || echo sudo)
	brfs=$($sudo env IGN_CACHE_DIR="$cache" "$top/images/browser/build.sh") || exit 1
	# where bundles/browser/run.sh makes and finds it (beside the tree, root's)
	brimg=$($sudo "$build/bin/ign-mkimage" --quiet --cache "${brfs%/rootfs}/images" "$brfs") || exit 1
	echo "$top" >"$stage/ign/top"
	echo "$brfs" >"$stage/ign/browser-rootfs"
	echo "$brimg" >"$stage/ign/browser-image"
esac
if [ "$script" = cases ]; then
	cp "$here"/*.sh "$stage/ign/"
	echo "$suites" >"$stage/ign/suites"
	cat >"$stage/ign/cases.sh" <<'EOF'
D=${1:?usage: cases.sh DIR}
. "$D/lib.sh"
for ign_suite in $(cat "$D/suites"); do  # a name no suite uses
	suite_begin "$ign_suite"
	. "$D/$ign_suite.sh"
	suite_end "$ign_suite"
done
finish
EOF
else
	cp "$script" "$stage/ign/cases.sh"
	cp "$here/browser-lib.sh" "$stage/ign/"  # for bench/browser-in-vm.sh
fi
for b in boottime ignbench; do
	if [ -x "$build/bench/$b" ]; then cp "$build/bench/$b" "$stage/ign/"; fi
done
# L1 starts with an empty environment: the knobs of the cases and benches
# (IGN_CASE_TIMEOUT, IGN_BENCH_RUNS...) go in at the top of cases.sh, quoted
{
	env | grep -E '^IGN_(CASE_TIMEOUT|BENCH_[A-Z_]+)=' | sed "s/'/'\\\\''/g; s/=/='/; s/^/export /; s/\$/'/" || :
	cat "$stage/ign/cases.sh"
} >"$stage/ign/cases.env.sh" && mv "$stage/ign/cases.env.sh" "$stage/ign/cases.sh"

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

# L1's console is stdio; its second serial port (ttyS1) is a file that
# l1-stage2 writes a heartbeat to every 10 s, so a hung L1 is seen in 90 s.
l1_boot() {
	timeout "$1" qemu-system-x86_64 -accel tcg -cpu max,-fsgsbase -m 4G -smp 2 \
		-display none -monitor "unix:$stage/l1.mon,server,nowait" -no-reboot -kernel "$l1_kernel" -initrd "$stage/l1.cpio.gz" \
		-serial stdio -serial "file:$stage/l1.beat" \
		-virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on \
		-append "console=ttyS0 quiet panic=-1 nokaslr ign.stage=$stage" </dev/null
}

# Where L1's vCPUs were when it stopped, from QEMU's monitor (for bug reports).
l1_postmortem() {
	python3 - "$stage/l1.mon" <<'EOF'
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.settimeout(2)
for cmd in ("info cpus", "info registers -a", "x/4i $pc", "cpu 1", "x/4i $pc"):
    s.sendall(cmd.encode() + b"\n")
    time.sleep(1)
out = b""
try:
    while True:
        d = s.recv(65536)
        if not d:
            break
        out += d
except OSError:
    pass
sys.stdout.write(out.decode(errors="replace"))
EOF
	# and where QEMU's own threads are (a hang of the emulator, not of L1's kernel)
	local q
	for q in $(pgrep -f "$stage/l1.mon"); do
		[ "$(cat "/proc/$q/comm" 2>/dev/null)" = qemu-system-x86 ] || continue
		command -v gdb >/dev/null && timeout 30 gdb -p "$q" -batch \
			-ex 'thread apply all bt 8' 2>/dev/null | grep -E '^(Thread|#)' | head -n 120
	done
}

# l1_watch QEMU_PID: ends the attempt when L1 soft-locks (seen now and then
# under the emulator, never recovering) or its heartbeat stops for 90 s.
l1_watch() {
	local last size=0 now
	last=$(date +%s)  # L1's boot until the first beat counts as one gap
	while kill -0 "$1" 2>/dev/null; do
		sleep 5
		now=$(date +%s)
		if grep -a -q 'BUG: soft lockup' "$stage/l1.log"; then
			echo "vm tests: L1 locked up under the emulator; stopping this attempt"
		elif [ "$(stat -c %s "$stage/l1.beat")" != "$size" ]; then
			size=$(stat -c %s "$stage/l1.beat")
			last=$now
			continue
		elif [ $((now - last)) -lt 90 ]; then
			continue
		else
			echo "vm tests: no heartbeat from L1 for $((now - last))s (L1 hung); stopping this attempt"
		fi
		l1_postmortem >"$build/vm-l1-hang.log" 2>&1 || true
		pkill -P "$1" 2>/dev/null
		kill "$1" 2>/dev/null
		return
	done
}

# Up to six L1 boots within IGN_L1_BUDGET seconds; each runs the suites no
# earlier boot finished (a suite cut short by a hung L1 runs again, whole).
echo "vm tests: no usable /dev/kvm here; nested KVM in an L1 guest under QEMU TCG (-cpu max,-fsgsbase: AMD SVM), L1 kernel $kver"
budget_end=$(($(date +%s) + ${IGN_L1_BUDGET:-3600}))
passed=0 failed=0 remaining=$suites
for attempt in 1 2 3 4 5 6; do
	left=$((budget_end - $(date +%s)))
	[ "$left" -gt 120 ] || { echo "vm tests: no time left for another L1 boot"; break; }
	[ "$attempt" = 1 ] || echo "vm tests: L1 boot $attempt, for: $remaining"
	[ "$script" != cases ] || echo "$remaining" >"$stage/ign/suites"
	start=$(date +%s)
	: >"$stage/l1.log"
	: >"$stage/l1.beat"
	set +e
	l1_boot "$left" >>"$stage/l1.log" 2>&1 &
	qpid=$!
	tail -n +1 -f --pid=$qpid "$stage/l1.log" | grep -a --line-buffered -v -E '^\s*$' &
	tpid=$!
	l1_watch $qpid
	wait $qpid
	qrc=$?
	wait $tpid 2>/dev/null
	set -e
	secs=$(($(date +%s) - start))
	cp "$stage/l1.log" "$build/vm-l1-attempt$attempt.log" 2>/dev/null || true  # for post-mortems
	if [ "$script" != cases ]; then  # the demo or a benchmark: its own status
		result=$(grep -a -o 'IGN_L1_RESULT rc=[0-9]*' "$stage/l1.log" | tail -n 1 || true)
		if [ -n "$result" ]; then
			echo "vm tests: L1 run took ${secs}s"
			exit "${result#IGN_L1_RESULT rc=}"
		fi
		echo "vm tests: L1 stopped before reporting (qemu status $qrc after ${secs}s)"
		continue
	fi
	# Count the suites this boot finished; the others are left for the next.
	while read -r _ s p f; do
		passed=$((passed + ${p#passed=}))
		failed=$((failed + ${f#failed=}))
		remaining=$(echo " $remaining " | sed "s/ $s / /; s/^ *//; s/ *\$//")
	done < <(grep -a -o 'IGN_SUITE_END [a-z0-9_]* passed=[0-9]* failed=[0-9]*' "$stage/l1.log")
	echo "vm tests: L1 boot $attempt took ${secs}s (qemu status $qrc)"
	[ -n "$remaining" ] || break
	# (|| true: an L1 that hung before any suite began has no such line, and
	# pipefail would end this script instead of booting L1 again)
	cut=$(grep -a -o 'IGN_SUITE_BEGIN [a-z0-9_]*' "$stage/l1.log" | tail -n 1 | cut -d' ' -f2 || true)
	echo "vm tests: L1 stopped in suite '${cut:-none}'; not finished: $remaining"
done
if [ "$script" != cases ]; then
	echo "vm tests: no verdict"
	exit 1
fi
echo "vm: $passed passed, $failed failed"
if [ -n "$remaining" ]; then
	echo "vm tests: suites that never finished: $remaining"
	exit 1
fi
[ "$failed" = 0 ]
