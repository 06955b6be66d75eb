# podman 4.3.1 (Debian's) with --runtime pointing at ign-runtime: conmon
# drives create/start/kill/delete/state/exec as it does with runc. The image
# is imported from the busybox rootfs (no registry). Sourced after lib.sh.
RT="$D/prefix/bin/ign-runtime"
IMGNAME=localhost/ign-busybox

if ! command -v podman >/dev/null; then
	fail=$((fail + 1))
	echo "not ok - podman: podman is not installed (apt-get install podman)"
	return 0 2>/dev/null || exit 1
fi
mkdir -p "$T/pm" "$T/pm/www"
cat >"$T/pm/containers.conf" <<CONF
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
runtime_supports_json = ["crun", "runc", "kata", "runsc", "krun", "ign-runtime"]
runtime_supports_kvm = ["kata", "kata-runtime", "kata-qemu", "kata-fc", "krun", "ign-runtime"]
[engine.runtimes]
ign-runtime = ["$RT"]
[network]
network_backend = "netavark"
network_config_dir = "$T/pm/networks"
CONF
cat >"$T/pm/storage.conf" <<CONF
[storage]
driver = "overlay"
graphroot = "$T/pm/storage"
runroot = "$T/pm/run"
CONF
export CONTAINERS_CONF="$T/pm/containers.conf" CONTAINERS_STORAGE_CONF="$T/pm/storage.conf"
P="podman --runtime $RT"
# pm NAME ARGS...: podman, output in $T/NAME.out, status in $T/NAME.rc
pm() {
	name=$1
	shift
	timeout -k 10 "$TMO" $P "$@" >"$T/$name.out" 2>&1 </dev/null
	echo $? >"$T/$name.rc"
}

case_begin pm_run
tar -C "$D/rootfs" -cf "$T/pm/busybox.tar" .
podman import -q "$T/pm/busybox.tar" "$IMGNAME" >"$T/pm_run.import" 2>&1 || bad="$bad podman import failed;"
pm pm_run run --rm "$IMGNAME" echo hello
want_rc pm_run 0
[ "$(cat "$T/pm_run.out")" = hello ] || bad="$bad output is not exactly hello;"
check pm_run "podman --runtime ign-runtime run --rm IMAGE echo hello prints hello" pm_run

case_begin pm_exit_codes
pm pm_e0 run --rm "$IMGNAME" true
pm pm_e3 run --rm "$IMGNAME" sh -c 'exit 3'
pm pm_e127 run --rm "$IMGNAME" nosuchprogram
pm pm_e137 run --rm "$IMGNAME" sh -c 'kill -KILL $$'
want_rc pm_e0 0; want_rc pm_e3 3; want_rc pm_e127 127; want_rc pm_e137 137
[ -n "$bad" ] && cat "$T/pm_e127.out" >"$T/pm_exit_codes.out"
check pm_exit_codes "exit codes through conmon: 0, 3, 127 (missing program), 137 (SIGKILL)" pm_exit_codes

case_begin pm_tty
# timeout --foreground: podman must stay in the terminal's foreground group
timeout -k 5 "$TMO" script -qec \
	"timeout -k 10 --foreground $TMO $P run --rm -it $IMGNAME sh -c 'tty; echo T=\$TERM'" /dev/null \
	>"$T/pm_tty.out" 2>&1 </dev/null
echo $? >"$T/pm_tty.rc"
want_rc pm_tty 0
want_out pm_tty /dev/pts/
want_out pm_tty T=xterm
check pm_tty "run -it: the workload has a terminal" pm_tty

case_begin pm_exec_logs_stop
pm pm_d run -d --name ign1 "$IMGNAME" sh -c 'echo logged-line; exec sleep 1000'
want_rc pm_d 0
pm pm_x exec ign1 sh -c 'echo in-exec; exit 5'
want_rc pm_x 5
want_out pm_x in-exec
pm pm_l logs ign1
want_out pm_l logged-line
pm pm_s stop -t 3 ign1
want_rc pm_s 0
pm pm_i inspect -f '{{.State.Status}}' ign1
want_out pm_i exited
pm pm_r rm ign1
want_rc pm_r 0
pm pm_d2 run -d --name ign2 "$IMGNAME" sleep 1000
pm pm_f rm -f ign2
want_rc pm_f 0
pm pm_ps ps -a --format '{{.Names}}'
grep -q ign2 "$T/pm_ps.out" && bad="$bad rm -f left ign2;"
[ -n "$bad" ] && cat "$T"/pm_[dxlsirf]*.out >"$T/pm_exec_logs_stop.out"
check pm_exec_logs_stop "run -d, exec (status 5), logs, stop, rm, rm -f of a running container" pm_exec_logs_stop

case_begin pm_volume
mkdir -p "$T/pm/vol"
echo "from the host" >"$T/pm/vol/in"
pm pm_v run --rm -v "$T/pm/vol:/data:ro" "$IMGNAME" cat /data/in
want_rc pm_v 0
want_out pm_v "from the host"
pm pm_vw run --rm -v "$T/pm/vol:/data" "$IMGNAME" sh -c 'cat /data/in; echo written by the guest > /data/out'
want_rc pm_vw 0
[ "$(cat "$T/pm/vol/out" 2>/dev/null)" = "written by the guest" ] || bad="$bad the host does not read the guest's file;"
pm pm_vr run --rm -v "$T/pm/vol:/data" "$IMGNAME" cat /data/out
want_out pm_vr "written by the guest"
cat "$T/pm_vw.out" "$T/pm_vr.out" >>"$T/pm_v.out"
check pm_volume "a read-only volume is read in the guest; a read-write volume written by the guest is read by the host (and by the next container)" pm_v

case_begin pm_net
echo "served-by-the-host" >"$T/pm/www/index.html"
busybox httpd -p 18080 -h "$T/pm/www"
pm pm_n run --rm "$IMGNAME" sh -c 'ip addr; wget -q -O - http://10.88.0.1:18080/index.html'
want_rc pm_n 0
want_out pm_n served-by-the-host
pkill -f "httpd -p 18080" 2>/dev/null
check pm_net "the container's network (podman's bridge, via a tc redirect to the VM) reaches a server on the host" pm_n
