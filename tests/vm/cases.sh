#!/bin/sh
# End-to-end VM tests: run ign-vmm on a machine (or nested-KVM guest) that has
# /dev/kvm. POSIX sh: it also runs under busybox inside the L1 guest.
#
# usage: cases.sh DIR   where DIR holds ign-vmm, vmlinux, bzImage, hello.cpio.gz
# Prints one "ok"/"not ok" line per case and "N passed, N failed" last;
# exits 1 if any case failed.
D=${1:?usage: cases.sh DIR}
VMM=$D/ign-vmm
TMO=${IGN_CASE_TIMEOUT:-120}
T=$(mktemp -d)
pass=0
fail=0
BASE="console=ttyS0 reboot=k panic=-1 acpi=off quiet"

# vm NAME [ign-vmm args...]: runs ign-vmm, output in $T/NAME.out, status in $T/NAME.rc
vm() {
	name=$1
	shift
	timeout "$TMO" "$VMM" "$@" >"$T/$name.out" 2>&1 </dev/null
	echo $? >"$T/$name.rc"
}

check() {  # check NAME DESCRIPTION: the previous assertions' verdict in $bad
	if [ -z "$bad" ]; then
		pass=$((pass + 1))
		echo "ok - $1: $2"
	else
		fail=$((fail + 1))
		echo "not ok - $1: $2 ($bad)"
		sed 's/^/#   /' "$T/$1.out" | tail -n 25
	fi
	bad=
}

want_rc() { [ "$(cat "$T/$1.rc")" = "$2" ] || bad="$bad exit status $(cat "$T/$1.rc"), want $2;"; }
want_out() { grep -q -- "$2" "$T/$1.out" || bad="$bad no '$2' in output;"; }

hello() { vm "$@" --kernel "$D/vmlinux" --initrd "$D/hello.cpio.gz" --cmdline "$BASE"; }

case_begin() { echo "# $1 (uptime $(cut -d' ' -f1 /proc/uptime))"; }

case_begin hello
hello hello --append "ign.test=hello"
want_rc hello 0; want_out hello "IGN_HELLO hello from the ign guest"
grep -q -i "acpi.*error" "$T/hello.out" && bad="$bad ACPI error in the boot log;"
check hello "vmlinux + initramfs, 1 vCPU: guest says hello, exit 0"

case_begin exit3
hello exit3 --append "ign.exit=3"
want_rc exit3 3; want_out exit3 IGN_HELLO
check exit3 "guest-chosen exit code 3 reaches ign-vmm's status"

case_begin smp2
hello smp2 --vcpus 2 --mem 256 --append "ign.test=cpus"
want_rc smp2 0; want_out smp2 "IGN_CPUS 2"
check smp2 "2 vCPUs: the guest brings both online"

case_begin memtest
hello memtest --vcpus 2 --mem 256 --append "ign.test=memtest ign.mem=96"
want_rc memtest 0; want_out memtest "memtest: 96 MiB ok"
check memtest "96 MiB written and verified in a 256 MiB guest"

case_begin reboot
hello reboot --append "ign.test=reboot"
want_rc reboot 0; want_out reboot IGN_HELLO
check reboot "guest reboot (reboot=k) ends the VMM with status 0"

case_begin echo
name=echo
printf 'ping from the host\n' >"$T/echo.in"
timeout "$TMO" "$VMM" --kernel "$D/vmlinux" --initrd "$D/hello.cpio.gz" --cmdline "$BASE" \
	--append "ign.test=echo" <"$T/echo.in" >"$T/echo.out" 2>&1
echo $? >"$T/echo.rc"
want_rc echo 0; want_out echo "IGN_ECHO ping from the host"
check echo "host stdin reaches the guest through the 16550 receiver"

case_begin bzimage
vm bzimage --kernel "$D/bzImage" --initrd "$D/hello.cpio.gz" --cmdline "$BASE" --append "ign.exit=7"
want_rc bzimage 7; want_out bzimage IGN_HELLO
check bzimage "bzImage (compressed kernel, 64-bit entry) boots"

# Bad input: a clear one-line error and status 1, no guest started.
head -c 4096 /dev/urandom >"$T/junk"
vm badkernel --kernel "$T/junk"
want_rc badkernel 1; want_out badkernel "not a kernel image"
check badkernel "a file that is no kernel is refused by name"

head -c 100000 "$D/vmlinux" >"$T/short"
vm shortelf --kernel "$T/short"
want_rc shortelf 1; want_out shortelf "outside the file"
check shortelf "a truncated vmlinux is refused"

vm nokernel --kernel "$T/does-not-exist"
want_rc nokernel 1; want_out nokernel "does-not-exist.*No such file"
check nokernel "a missing kernel is named in the error"

vm tinymem --kernel "$D/vmlinux" --initrd "$D/hello.cpio.gz" --mem 16
want_rc tinymem 1; want_out tinymem "too small"
check tinymem "too little memory for the kernel is refused"

vm badinitrd --kernel "$D/vmlinux" --initrd "$T/none.cpio"
want_rc badinitrd 1; want_out badinitrd "initrd.*none.cpio"
check badinitrd "a missing initrd is named in the error"

rm -rf "$T"
echo "vm: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
