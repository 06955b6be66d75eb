# End to end: ign-init as the guest's PID 1 on the busybox root image (erofs,
# read-only, under a tmpfs overlay), driven over virtio-vsock with
# ign-agentctl, the agent client the shim uses. Sourced after lib.sh.
AGENT=$D/ign-agentctl
IMG=$D/rootfs.erofs

# boot NAME [ign-vmm args...]: a VM in the background with ign-init and vsock
# socket $T/NAME.sock; console in $T/NAME.console, status in $T/NAME.vmrc.
# With $NS set, ign-vmm runs in that network namespace.
boot() {
	name=$1
	shift
	rm -f "$T/$name.vmrc"
	( ${NS:+nsenter --net="$NS"} timeout -k 10 "$TMO" "$VMM" --kernel "$D/vmlinux" --initrd "$D/ign-init.cpio.gz" \
		--cmdline "$BASE" --vsock "$T/$name.sock" "$@" >"$T/$name.console" 2>&1 </dev/null
	  echo $? >"$T/$name.vmrc" ) &
}

# agent NAME [ign-agentctl args...]: against VM $VM (default NAME); stdin from
# $AGENT_IN; output in $T/NAME.out, status in $T/NAME.rc.
agent() {
	name=$1
	shift
	timeout -k 10 "$TMO" "$AGENT" --vsock "$T/${VM:-$name}.sock" "$@" >"$T/$name.out" 2>&1 \
		<"${AGENT_IN:-/dev/null}"
	echo $? >"$T/$name.rc"
}

# wait_vm NAME: until the VM has ended (or 60 s).
wait_vm() {
	i=0
	while [ ! -s "$T/$1.vmrc" ] && [ $i -lt 300 ]; do sleep 0.2; i=$((i + 1)); done
}
want_vmrc() {
	[ "$(cat "$T/$1.vmrc" 2>/dev/null)" = "$2" ] || bad="$bad VM status $(cat "$T/$1.vmrc" 2>/dev/null), want $2;"
}

case_begin e2e_echo
boot echo --disk "$IMG,ro"
agent echo -- echo hello
wait_vm echo
want_rc echo 0; want_vmrc echo 0
[ "$(cat "$T/echo.out")" = hello ] || bad="$bad output is not exactly hello;"
check e2e_echo "echo hello: prints hello, exits 0, the VM ends with 0" echo

case_begin e2e_exit3
boot exit3 --disk "$IMG,ro"
agent exit3 -- sh -c 'exit 3'
wait_vm exit3
want_rc exit3 3; want_vmrc exit3 3
check e2e_exit3 "exit 3 gives 3, to ign-agentctl and as the VM's status" exit3

case_begin e2e_sigterm
boot term --disk "$IMG,ro"
agent term -- sleep 1000 &
apid=$!
i=0
until "$AGENT" --vsock "$T/term.sock" --kill main 15 >"$T/term.kill" 2>&1 || [ $i -ge 100 ]; do
	sleep 0.2; i=$((i + 1))
done
wait $apid
wait_vm term
want_rc term 143; want_vmrc term 143
check e2e_sigterm "a process killed by SIGTERM (--kill main 15) gives 143" term

case_begin e2e_stdio
head -c 1048576 /dev/urandom >"$T/in.bin"
want=$(sha256sum "$T/in.bin" | cut -d' ' -f1)
boot stdio --disk "$IMG,ro"
AGENT_IN=$T/in.bin agent stdio -- sh -c 'sha256sum; echo to-stderr >&2'
wait_vm stdio
want_rc stdio 0; want_out stdio "$want  -"; want_out stdio to-stderr
check e2e_stdio "1 MiB of stdin reaches the process (sha256), stdout and stderr come back" stdio

case_begin e2e_cat
boot cat --disk "$IMG,ro"
timeout -k 10 "$TMO" "$AGENT" --vsock "$T/cat.sock" -- cat <"$T/in.bin" >"$T/cat.bin" 2>"$T/cat.out"
echo $? >"$T/cat.rc"
wait_vm cat
want_rc cat 0
cmp -s "$T/in.bin" "$T/cat.bin" || bad="$bad cat's output differs from its input;"
check e2e_cat "1 MiB through cat and back over vsock is byte-for-byte the same" cat

case_begin e2e_overlay
before=$(sha256sum "$IMG" | cut -d' ' -f1)
boot ovl --disk "$IMG,ro"
agent ovl -- sh -c 'echo scratch >/newfile && echo junk >>/etc/passwd && cat /newfile && grep -c junk /etc/passwd && grep " / " /proc/mounts'
wait_vm ovl
want_rc ovl 0; want_out ovl scratch; want_out ovl "^overlay / overlay"
boot ovl2 --disk "$IMG,ro"
agent ovl2 -- sh -c 'test ! -e /newfile && ! grep -q junk /etc/passwd && echo clean'
wait_vm ovl2
want_rc ovl2 0; want_out ovl2 clean
[ "$(sha256sum "$IMG" | cut -d' ' -f1)" = "$before" ] || bad="$bad the root image changed;"
check e2e_overlay "writes under / land in the tmpfs overlay: gone in the next VM, image unchanged" ovl

case_begin e2e_blk
dd if=/dev/urandom of="$T/data.img" bs=1M count=64 2>/dev/null
want=$(sha256sum "$T/data.img" | cut -d' ' -f1)
boot blk --disk "$IMG,ro" --disk "$T/data.img,ro"
agent blk -- sha256sum /dev/vdb
wait_vm blk
rm -f "$T/data.img"
want_rc blk 0; want_out blk "$want  /dev/vdb"
check e2e_blk "a 64 MiB disk read by the container process has the host's sha256" blk

case_begin e2e_9p
# Two host directories over virtio-9p: one read-write, one read-only.
rm -rf "$T/share" "$T/share-ro"
mkdir -p "$T/share/sub" "$T/share-ro"
echo "from the host" >"$T/share/hostfile"
cp "$T/in.bin" "$T/share/big.bin"
echo "read-only data" >"$T/share-ro/f"
want=$(sha256sum "$T/in.bin" | cut -d' ' -f1)
opts=trans=virtio,version=9p2000.L,msize=131072,cache=mmap,access=client
boot p9 --disk "$IMG,ro" --share "vol0=$T/share" --share "vol1=$T/share-ro,ro"
agent p9 --mount "9p,vol0,/vol,$opts" --mount "9p,vol1,/ro,$opts,ro" -- sh -c '
	cat /vol/hostfile; sha256sum /vol/big.bin
	echo guest-wrote >/vol/guestfile && chmod 640 /vol/guestfile && chown 1000:1001 /vol/guestfile
	dd if=/vol/big.bin of=/vol/copy.bin bs=64k 2>/dev/null
	mkdir /vol/d && echo x >/vol/d/y && mv /vol/d/y /vol/d/z && ln -s z /vol/d/link && cat /vol/d/link
	rmdir /vol/sub; rm /vol/big.bin; ls /vol | tr "\n" " "; echo
	cat /ro/f; echo no >/ro/f2 2>/dev/null && echo RO-WRITABLE; rm /ro/f 2>/dev/null && echo RO-REMOVED
	grep " /vol " /proc/mounts'
wait_vm p9
want_rc p9 0; want_out p9 "from the host"; want_out p9 "$want  /vol/big.bin"; want_out p9 "read-only data"
want_out p9 "^copy.bin d guestfile hostfile $"; want_out p9 "^vol0 /vol 9p "
grep -q "RO-" "$T/p9.out" && bad="$bad the read-only share took a change;"
[ "$(cat "$T/share/guestfile" 2>/dev/null)" = guest-wrote ] || bad="$bad the host does not see the guest's file;"
[ "$(stat -c %a:%u:%g "$T/share/guestfile" 2>/dev/null)" = 640:1000:1001 ] ||
	bad="$bad guestfile is $(stat -c %a:%u:%g "$T/share/guestfile" 2>&1), want 640:1000:1001;"
[ "$(sha256sum <"$T/share/copy.bin" | cut -d' ' -f1)" = "$want" ] || bad="$bad the 1 MiB copy differs;"
[ "$(cat "$T/share/d/z")" = x ] && [ "$(readlink "$T/share/d/link")" = z ] || bad="$bad rename or symlink missing;"
[ ! -e "$T/share/sub" ] && [ ! -e "$T/share/big.bin" ] || bad="$bad rmdir or rm did not reach the host;"
[ -e "$T/share-ro/f" ] && [ ! -e "$T/share-ro/f2" ] || bad="$bad the read-only directory changed;"
check e2e_9p "virtio-9p: a host directory read and written by the guest (1 MiB both ways, mkdir, rename, symlink, chmod, chown, rm); a read-only one refuses changes" p9

case_begin e2e_restore
# The warm-base point: ign-init with its root mounted and its agent listening
# on vsock writes the boot marker; the VM is saved there and restored twice.
rm -rf "$T/base"
boot base --disk "$IMG,ro" --snapshot-at-marker "$T/base"
i=0
while [ ! -s "$T/base/state" ] && [ $i -lt 300 ]; do sleep 0.2; i=$((i + 1)); done
agent base -- echo the original goes on
wait_vm base
want_rc base 0; want_out base "the original goes on"
for c in rst1 rst2; do
	boot "$c" --disk "$IMG,ro" --restore "$T/base"
	agent "$c" -- sh -c "echo hello from $c; grep -c . /proc/mounts >/dev/null && echo mounts-ok"
	wait_vm "$c"
	want_rc "$c" 0; want_vmrc "$c" 0; want_out "$c" "hello from $c"; want_out "$c" mounts-ok
	grep -q "Linux version" "$T/$c.console" && bad="$bad $c booted instead of resuming;"
	no_panic "$c"
done
cat "$T"/rst*.out "$T"/rst1.console >>"$T/base.out"
check e2e_restore "ign-init saved at its boot marker (root mounted, agent listening on vsock) and restored twice: each clone runs a process over a new vsock socket and exits 0" base

case_begin e2e_vsock
printf 'host says hi\n' >"$T/host.in"
"$D/vsockcat" unix-listen "$T/vs.sock_5000" <"$T/host.in" >"$T/vs.host" 2>&1 &
lpid=$!
boot vs --disk "$IMG,ro"
agent vs -- sh -c 'echo guest says hi | vsockcat vsock-connect 2 5000'
wait $lpid
wait_vm vs
want_rc vs 0; want_out vs "host says hi"
grep -q "guest says hi" "$T/vs.host" || bad="$bad the host listener got '$(cat "$T/vs.host")';"
check e2e_vsock "a guest connection to host port 5000 reaches PATH_5000; data both ways, clean EOF" vs

case_begin e2e_net
# A network namespace of the test's own: the tap, its address and the host's
# listener live there; the guest takes 10.0.2.15 from the kernel's ip=.
: >"$T/netns"
unshare --net="$T/netns" true
inns() { nsenter --net="$T/netns" "$@"; }
printf 'host over tcp\n' >"$T/net.msg"
NS=$T/netns boot net --disk "$IMG,ro" --net ign0,mac=52:54:00:00:00:02 \
	--append "ip=10.0.2.15::10.0.2.1:255.255.255.0::eth0:off"
i=0
until inns ip link show ign0 >/dev/null 2>&1 || [ $i -ge 100 ]; do sleep 0.1; i=$((i + 1)); done
inns ip addr add 10.0.2.1/24 dev ign0 && inns ip link set ign0 up
inns busybox nc -l -p 8080 <"$T/net.msg" >"$T/net.host" 2>&1 &
npid=$!
agent net -- sh -c 'cat /sys/class/net/eth0/address; ping -c 1 -W 10 10.0.2.1 >/dev/null && echo ping-ok; echo guest over tcp | nc 10.0.2.1 8080'
wait $npid
wait_vm net
want_rc net 0; want_out net "52:54:00:00:00:02"; want_out net ping-ok; want_out net "host over tcp"
grep -q "guest over tcp" "$T/net.host" || bad="$bad the host's listener got '$(cat "$T/net.host")';"
umount "$T/netns" 2>/dev/null
check e2e_net "virtio-net on a tap in the test's network namespace: MAC, ping, TCP both ways" net

case_begin e2e_two
boot two --disk "$IMG,ro"
agent two -- sh -c 'sleep 3; exit 5' &
apid=$!
VM=two agent two_exec --exec -- sh -c 'echo second; exit 7'
wait $apid
wait_vm two
want_rc two 5; want_rc two_exec 7; want_out two_exec second; want_vmrc two 5
check e2e_two "two processes in one guest (main and --exec) each report their status" two

case_begin e2e_spec
boot spec --disk "$D/rootfs.ext4,ro"
agent spec --user 1000:1001 --cwd /tmp --env FOO=bar --hostname ign-test --rlimit NOFILE=64:128 \
	--mount tmpfs,tmpfs,/scratch,size=1m,noexec -- \
	sh -c 'echo "uid=$(id -u) gid=$(id -g) cwd=$(pwd) foo=$FOO host=$(hostname) nofile=$(ulimit -n)"; touch /tmp/x && echo wrote; grep " /scratch " /proc/mounts'
wait_vm spec
want_rc spec 0; want_out spec "uid=1000 gid=1001 cwd=/tmp foo=bar host=ign-test nofile=64"; want_out spec wrote
want_out spec "^tmpfs /scratch tmpfs rw,.*noexec.*size=1024k"
check e2e_spec "ext4 root image; user, cwd, env, hostname, rlimits and a mount from the spec" spec

case_begin e2e_tty
boot tty --disk "$IMG,ro"
agent tty --tty -- sh -c 'tty; echo "term=$TERM"; exit 4'
wait_vm tty
want_rc tty 4; want_out tty "/dev/pts/0"; want_out tty "term=xterm"
check e2e_tty "a terminal process gets a pty and TERM; its status comes back" tty

case_begin e2e_badexec
boot badexec --disk "$IMG,ro"
agent badexec -- /no/such/program
VM=badexec agent badexec2 -- true
wait_vm badexec
want_rc badexec 125; want_out badexec "exec \`/no/such/program\`: no such file or directory"
want_rc badexec2 0; want_vmrc badexec 0
check e2e_badexec "a program that does not exist is named; the guest still runs the next one" badexec

case_begin e2e_badroot
head -c 4194304 /dev/zero >"$T/zero.img"
boot badroot --disk "$T/zero.img,ro"
wait_vm badroot
want_vmrc badroot 255
grep -q "ign-init: root file system: root image" "$T/badroot.console" || bad="$bad no ign-init error on the console;"
check e2e_badroot "a disk that holds no file system: ign-init says so and the VM ends with 255" badroot
rm -f "$T/zero.img" "$T/in.bin" "$T/cat.bin"
