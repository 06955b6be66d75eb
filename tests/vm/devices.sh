# The VMM's own cases: boot paths, exit ABI, ACPI, serial, virtio devices
# driven from a busybox shell, bad input. Sourced after lib.sh.

case_begin hello
hello hello --append "ign.test=hello"
want_rc hello 0; want_out hello "IGN_HELLO hello from the ign guest"
grep -q -i "acpi.*error" "$T/hello.out" && bad="$bad ACPI error in the boot log;"
grep -q "PCI: Fatal" "$T/hello.out" && bad="$bad PCI config space not found;"
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

case_begin triplefault
# reboot=t: the guest's kernel reboots by a triple fault, which the VMM ends
# with an error that names it. In L1, KVM's exit trace (l1-stage2) has it too.
hello triple --append "ign.test=reboot reboot=t"
want_rc triple 1; want_out triple "vCPU 0: guest triple fault"
if [ -r /sys/kernel/tracing/trace ]; then
	grep -q "reason shutdown rip" /sys/kernel/tracing/trace || bad="$bad no shutdown in KVM's exit trace;"
fi
check triplefault "a guest triple fault (reboot=t) ends the VMM with an error that names it"

case_begin privs
# Once its devices are open, ign-vmm keeps no capability (a 9p share keeps the
# five file ones it serves with) and sets no_new_privs (docs/security.md).
# The guest waits for a line on its console while /proc/PID/status is read.
privs_of() {  # privs_of NAME ign-vmm-args...: NAME.status, NAME.out
	pname=$1
	shift
	rm -f "$T/$pname.fifo" && mkfifo "$T/$pname.fifo"
	timeout -k 10 "$TMO" "$VMM" --kernel "$D/vmlinux" --initrd "$D/hello.cpio.gz" --cmdline "$BASE" \
		--append "ign.test=echo" "$@" <"$T/$pname.fifo" >"$T/$pname.out" 2>&1 &
	tpid=$!
	exec 9>"$T/$pname.fifo"
	i=0
	while ! grep -q IGN_READY "$T/$pname.out" && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
	grep -q IGN_READY "$T/$pname.out" ||
		bad="$bad $pname: no IGN_READY in 60 s: $(tail -c 400 "$T/$pname.out" | tr '\n' ' ');"
	vpid=$(pgrep -P "$tpid" -x ign-vmm)
	proc_status "$pname" "$vpid"
	threads_seccomp "$pname" "$vpid"
	ls -A "/proc/$vpid/root/" >"$T/$pname.root" 2>&1
	ls -A "/proc/$vpid/root$T/$pname/" >"$T/$pname.rootdir" 2>&1  # (a jailed VMM's view of $T/NAME)
	(echo bye >&9) 2>/dev/null  # a VMM gone already (SIGPIPE) fails this case, not the suite
	exec 9>&-
	wait "$tpid"
	cat "$T/$pname.status" >>"$T/$pname.out"
}
privs_of pv
for f in CapInh CapPrm CapEff CapBnd CapAmb; do want_field pv $f 0000000000000000; done
want_field pv NoNewPrivs 1
want_out pv "IGN_ECHO bye"
# each thread under its own kind's seccomp filter, one each (docs/security.md)
for t in ign-vmm vcpu0 io console; do want_thread pv "$t"; done
mkdir -p "$T/pvshare"
privs_of pvs --share "t=$T/pvshare"
for f in CapPrm CapEff CapBnd; do want_field pvs $f 000000000000001f; done
want_field pvs NoNewPrivs 1
cat "$T/pvs.out" >>"$T/pv.out"
# --jail: the VMM's root is an empty tmpfs with /proc and its vsock socket's
# directory, where it sees its socket; the guest still runs
mkdir -p "$T/pvj"
privs_of pvj --jail "$T/pvj/jail" --vsock "$T/pvj/v.sock"
want_out pvj "IGN_ECHO bye"
top=$(echo "$T" | cut -d/ -f2)
[ "$(sort "$T/pvj.root" | tr '\n' ' ')" = "$(printf '%s\n' proc "$top" | sort | tr '\n' ' ')" ] ||
	bad="$bad the jailed VMM's root holds $(tr '\n' ' ' <"$T/pvj.root"), want proc and $top;"
grep -qx v.sock "$T/pvj.rootdir" || bad="$bad the jailed VMM does not see its vsock socket ($(cat "$T/pvj.rootdir"));"
for f in CapEff CapBnd; do want_field pvj $f 0000000000000000; done
cat "$T/pvj.out" >>"$T/pv.out"
check privs "no capabilities and no_new_privs once the devices are open; with a 9p share, only CHOWN, DAC_OVERRIDE, DAC_READ_SEARCH, FOWNER, FSETID; every thread (main, vcpu0, io, console) in seccomp filter mode with one filter of its own; --jail leaves only /proc and the vsock directory in view" pv

case_begin poweroff
vm poweroff --kernel "$D/vmlinux" --initrd "$D/hello.cpio.gz" --vcpus 2 \
	--cmdline "console=ttyS0 reboot=k panic=-1" --append "ign.test=poweroff"
want_rc poweroff 0; want_out poweroff "reboot: Power down"
want_out poweroff "ACPI: RSDP"; want_out poweroff "ttyS0 at I/O 0x3f8 (irq = "
want_out poweroff "PCI: Using configuration type 1"
check poweroff "ACPI by default: COM1 from the DSDT, PCI config space, power-off (\\_S5) ends the VMM with 0"

case_begin noacpi
vm noacpi --no-acpi --kernel "$D/vmlinux" --initrd "$D/hello.cpio.gz" --vcpus 2 \
	--cmdline "console=ttyS0 reboot=k panic=-1" --append "ign.test=cpus"
want_rc noacpi 0; want_out noacpi "IGN_CPUS 2"; want_out noacpi "Intel MultiProcessor Specification"
want_out noacpi "pci 0000:00:00.0: \\[1b36:0008\\]"
grep -q "ACPI: RSDP" "$T/noacpi.out" && bad="$bad ACPI tables present;"
check noacpi "--no-acpi: MP table only, 2 vCPUs online"

case_begin echo
printf 'ping from the host\n' >"$T/echo.in"
hello echo --append "ign.test=echo"
want_rc echo 0; want_out echo "IGN_ECHO ping from the host"
check echo "host stdin reaches the guest through the 16550 receiver"

case_begin bzimage
vm bzimage --kernel "$D/bzImage" --initrd "$D/hello.cpio.gz" --cmdline "$BASE" --append "ign.exit=7"
want_rc bzimage 7; want_out bzimage IGN_HELLO
check bzimage "bzImage (compressed kernel, 64-bit entry) boots"

# virtio devices, driven from a busybox shell in the guest (tools.cpio.gz):
# sh_vm NAME "COMMAND" [ign-vmm args...] runs COMMAND in the guest.
sh_vm() {
	name=$1 cmd=$2
	shift 2
	printf '%s\n' "$cmd" >"$T/$name.in"
	vm "$name" --kernel "$D/vmlinux" --initrd "$D/tools.cpio.gz" --cmdline "$BASE" \
		--append "ign.test=sh" "$@"
}

case_begin blk
dd if=/dev/urandom of="$T/disk64" bs=1M count=64 2>/dev/null
want=$(sha256sum "$T/disk64" | cut -d' ' -f1)
sh_vm blk 'sha256sum /dev/vda; cat /sys/block/vda/ro /sys/block/vda/serial' --disk "$T/disk64,ro"
want_rc blk 0; want_out blk "$want  /dev/vda"; want_out blk "^ign"
grep -q "^1" "$T/blk.out" || bad="$bad /sys/block/vda/ro is not 1;"
check blk "64 MiB read through virtio-blk has the host's sha256"

case_begin blkro
sh_vm blkro 'dd if=/dev/zero of=/dev/vda bs=4096 count=1 conv=fsync' --disk "$T/disk64,ro"
[ "$(cat "$T/blkro.rc")" != 0 ] || bad="$bad write to a read-only disk succeeded;"
[ "$(sha256sum "$T/disk64" | cut -d' ' -f1)" = "$want" ] || bad="$bad read-only disk changed;"
check blkro "a read-only disk refuses writes and stays byte-for-byte unchanged"

case_begin blkrw
dd if=/dev/zero of="$T/rw.img" bs=1M count=4 2>/dev/null
sh_vm blkrw 'head -c 4096 /dev/vda | od -An -tx1 | head -n1; echo ign-wrote-this | dd of=/dev/vdb bs=512 conv=sync,fsync' \
	--disk "$T/disk64,ro" --disk "$T/rw.img"
want_rc blkrw 0
[ "$(head -c 14 "$T/rw.img")" = ign-wrote-this ] || bad="$bad guest write not in the host file;"
check blkrw "a second, read-write disk (vdb): the guest's write and flush reach the host file"

case_begin rng
sh_vm rng 'cat /sys/class/misc/hw_random/rng_current; dd if=/dev/hwrng bs=16 count=1 2>/dev/null | od -An -tx1' --rng
want_rc rng 0; want_out rng "virtio_rng"
grep -Eq "^ *([0-9a-f]{2} ){15}[0-9a-f]{2}" "$T/rng.out" || bad="$bad no random bytes;"
check rng "virtio-rng feeds the guest's /dev/hwrng"

case_begin noacpi_blk
sh_vm noacpi_blk 'sha256sum /dev/vda' --no-acpi --disk "$T/disk64,ro" --rng
want_rc noacpi_blk 0; want_out noacpi_blk "$want  /dev/vda"
check noacpi_blk "--no-acpi: devices found through virtio_mmio.device= on the command line"
rm -f "$T/disk64" "$T/rw.img"

vm nodisk --kernel "$D/vmlinux" --disk "$T/no-such.img"
want_rc nodisk 1; want_out nodisk "disk .*no-such.img.*No such file"
check nodisk "a missing disk image is named in the error"

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

