# Helpers for the VM test suites (devices.sh, e2e.sh), sourced by the runner
# tests/vm/run.sh writes. POSIX sh: it also runs under busybox inside the L1
# guest. $D is the staging directory: ign-vmm, vmlinux, bzImage, the
# initramfs images, ign-agentctl, the root images.
# Each case prints one "ok"/"not ok" line; suite_end prints a suite's counts
# (run.sh resumes an interrupted nested run from the first unfinished suite);
# finish prints "vm: N passed, N failed".
VMM=$D/ign-vmm
TMO=${IGN_CASE_TIMEOUT:-120}
T=$(mktemp -d)
pass=0
fail=0
BASE="console=ttyS0 reboot=k panic=-1 quiet"

# vm NAME [ign-vmm args...]: runs ign-vmm with stdin from $T/NAME.in (if the
# case wrote one), output in $T/NAME.out, status in $T/NAME.rc
vm() {
	name=$1
	shift
	in=/dev/null
	[ -e "$T/$name.in" ] && in=$T/$name.in
	timeout -k 10 "$TMO" "$VMM" "$@" >"$T/$name.out" 2>&1 <"$in"
	echo $? >"$T/$name.rc"
}

check() {  # check NAME DESCRIPTION [FILE]: the verdict in $bad; shows $T/FILE.* (FILE: NAME)
	if [ -z "$bad" ]; then
		pass=$((pass + 1))
		echo "ok - $1: $2"
	else
		fail=$((fail + 1))
		echo "not ok - $1: $2 ($bad)"
		f=${3:-$1}
		[ -f "$T/$f.out" ] && sed 's/^/#   /' "$T/$f.out" | tail -n 25
		[ -f "$T/$f.console" ] && sed 's/^/#   console: /' "$T/$f.console" | tail -n 25
		# in L1 (l1-stage2): where a guest triple-faulted, from KVM's exit trace
		if grep -q "triple fault" "$T/$f.out" 2>/dev/null && [ -r /sys/kernel/tracing/trace ]; then
			grep -v '^#' /sys/kernel/tracing/trace | tail -n 4 | sed 's/^/#   kvm: /'
			rip=$(grep -o 'reason shutdown rip 0x[0-9a-f]*' /sys/kernel/tracing/trace | tail -n 1 | cut -d' ' -f4)
			[ -n "$rip" ] && echo "#   kvm: the last shutdown's rip is in $(addr2line -f -e "$D/vmlinux" "$rip" 2>/dev/null | head -n 1)"
		fi
	fi
	bad=
}

want_rc() { [ "$(cat "$T/$1.rc")" = "$2" ] || bad="$bad exit status $(cat "$T/$1.rc"), want $2;"; }
# json_field FIELD: a top-level field of the JSON object on stdin (state's pid, status...)
json_field() { python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }
# runs PID: PID is a live process (a zombie, killed and not yet reaped, is not)
runs() { kill -0 "$1" 2>/dev/null && [ "$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null)" != Z ]; }
# accepts HOST:PORT: something accepts a TCP connection there (within 5 s)
accepts() { python3 -c 'import socket,sys; h,p=sys.argv[1].rsplit(":",1); socket.create_connection((h,int(p)),timeout=5)' "$1" 2>/dev/null; }
# no_panic NAME: the guest did not panic (a panic=-1 reboot also ends the VMM with 0)
no_panic() { cat "$T/$1.out" "$T/$1.console" 2>/dev/null | grep -q "Kernel panic" && bad="$bad $1: the guest kernel panicked;"; }
# proc_status NAME PID: PID's capability sets and no_new_privs, in NAME.status
proc_status() { grep -E '^(Cap(Inh|Prm|Eff|Bnd|Amb)|NoNewPrivs):' "/proc/$2/status" >"$T/$1.status" 2>&1; }
want_field() {  # want_field NAME FIELD VALUE: a line of NAME.status
	grep -q "^$2:[[:space:]]*$3\$" "$T/$1.status" || bad="$bad $1: $2 is not $3 ($(grep "^$2:" "$T/$1.status"));"
}
# threads_seccomp NAME PID: "COMM MODE FILTERS" per thread of PID, in NAME.threads,
# FILTERS counted beyond the test shell's own (a container's runtime may add one)
threads_seccomp() {
	own=$(awk '/^Seccomp_filters:/ {print $2}' /proc/self/status)
	for t in /proc/$2/task/*; do
		echo "$(cat "$t/comm") $(awk -v own="${own:-0}" '/^Seccomp:/ {m=$2} /^Seccomp_filters:/ {f=$2 - own} END {print m, f}' "$t/status")"
	done >"$T/$1.threads" 2>&1
}
want_thread() {  # want_thread NAME COMM: a thread COMM with filter mode 2 and 1 filter
	grep -qx "$2 2 1" "$T/$1.threads" || bad="$bad $1: thread $2 is not under exactly one seccomp filter ($(tr '\n' ',' <"$T/$1.threads"));"
}
want_out() { grep -q -- "$2" "$T/$1.out" || bad="$bad no '$2' in output;"; }

hello() { vm "$@" --kernel "$D/vmlinux" --initrd "$D/hello.cpio.gz" --cmdline "$BASE"; }

case_begin() { echo "# $1 (uptime $(cut -d' ' -f1 /proc/uptime))"; }

suite_begin() { echo "IGN_SUITE_BEGIN $1"; ign_suite_pass=$pass; ign_suite_fail=$fail; }
suite_end() { echo "IGN_SUITE_END $1 passed=$((pass - ign_suite_pass)) failed=$((fail - ign_suite_fail))"; }

finish() {
	rm -rf "$T"
	echo "vm: $pass passed, $fail failed"
	[ "$fail" -eq 0 ]
}
