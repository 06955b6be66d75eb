# ign-runtime and ign-shim as a runc-style caller drives them: bundles made
# from the busybox rootfs, every command, real ptys and stdio. Sourced after
# lib.sh; needs python3 (bundle edits) from the host root L1 mounts.
RT="$D/prefix/bin/ign-runtime"
ROOT=$T/rt-root
export IGN_CACHE=$T/rt-cache
export PATH="$D:$PATH"   # consock

# bundle NAME PYTHON: $T/NAME with `ign-runtime spec`'s config, edited by
# PYTHON (c is the config dict), root.path pointing at the busybox rootfs.
bundle() {
	mkdir -p "$T/$1"
	rm -f "$T/$1/config.json"
	"$RT" spec --bundle "$T/$1"
	python3 - "$T/$1/config.json" "$D/rootfs" "$2" <<'PY'
import json, sys
p, rootfs, code = sys.argv[1:4]
c = json.load(open(p))
c["root"]["path"] = rootfs
c["process"]["terminal"] = False
exec(code)
json.dump(c, open(p, "w"), indent=1)
PY
}
rt() { timeout -k 10 "$TMO" "$RT" --root "$ROOT" "$@"; }
# status ID: the container's status per `state`, or "gone"
status() { rt state "$1" 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["status"])' 2>/dev/null || echo gone; }
want_status() { s=$(status "$1"); [ "$s" = "$2" ] || bad="$bad status of $1 is $s, want $2;"; }
wait_status() {  # wait_status ID STATUS: up to 60 s
	i=0
	while [ "$(status "$1")" != "$2" ] && [ $i -lt 300 ]; do sleep 0.2; i=$((i + 1)); done
}

case_begin rt_lifecycle
bundle lc 'c["process"]["args"] = ["sh", "-c", "echo started; exec sleep 1000"]'
rt create --bundle "$T/lc" --pid-file "$T/lc.pid" lc >"$T/lc.out" 2>&1 </dev/null
echo $? >"$T/lc.rc"
want_rc lc 0
want_status lc created
pid=$(cat "$T/lc.pid")
[ "$(wc -l <"$T/lc.pid")" = 0 ] || bad="$bad pid file ends with a newline;"
rt state lc | grep -q "\"pid\": $pid" || bad="$bad state's pid is not the pid file's $pid;"
kill -0 "$pid" 2>/dev/null || bad="$bad pid $pid is not alive after create;"
# the shim keeps no capability once the VM is set up (docs/security.md)
proc_status lc "$pid"
want_field lc CapEff 0000000000000000; want_field lc CapBnd 0000000000000000; want_field lc NoNewPrivs 1
grep -q started "$T/lc.out" && bad="$bad the process ran before start;"
rt start lc || bad="$bad start failed;"
want_status lc running
i=0; until grep -q started "$T/lc.out" || [ $i -ge 100 ]; do sleep 0.1; i=$((i + 1)); done
grep -q started "$T/lc.out" || bad="$bad no output of the started process;"
rt start lc 2>"$T/lc.err" && bad="$bad a second start succeeded;"
grep -q "already running" "$T/lc.err" || bad="$bad second start: $(cat "$T/lc.err");"
rt delete lc 2>"$T/lc.err" && bad="$bad delete of a running container succeeded;"
want_status lc running
rt kill lc KILL || bad="$bad kill KILL failed;"
wait_status lc stopped
want_status lc stopped
rt state lc | grep -q '"pid": 0' || bad="$bad a stopped container's pid is not 0;"
kill -0 "$pid" 2>/dev/null && [ "$(cut -d' ' -f3 /proc/$pid/stat 2>/dev/null)" != Z ] && bad="$bad shim $pid still runs;"
rt kill lc 2>/dev/null && bad="$bad kill of a stopped container succeeded;"
rt delete lc || bad="$bad delete failed;"
rt state lc 2>"$T/lc.err" && bad="$bad state after delete succeeded;"
grep -q "does not exist" "$T/lc.err" || bad="$bad state of a deleted container: $(cat "$T/lc.err");"
[ -e "$ROOT/lc" ] && bad="$bad state directory left;"
check rt_lifecycle "create (pid file, no newline), state, start, kill KILL, stopped with pid 0, delete; wrong states refused" lc

case_begin rt_run_status
bundle st 'c["process"]["args"] = ["sh", "-c", "echo out; echo err >&2; exit 3"]'
rt run --bundle "$T/st" st3 >"$T/st.out" 2>"$T/st.err" </dev/null
echo $? >"$T/st.rc"
want_rc st 3
[ "$(cat "$T/st.out")" = out ] || bad="$bad stdout is not exactly out;"
grep -q '^err$' "$T/st.err" || bad="$bad no err on stderr;"
[ -e "$ROOT/st3" ] && bad="$bad run left its state behind;"
bundle sk 'c["process"]["args"] = ["sh", "-c", "kill -KILL $$"]'
rt run --bundle "$T/sk" sk >"$T/sk.out" 2>&1 </dev/null
echo $? >"$T/sk.rc"
want_rc sk 137
check rt_run_status "run: exit 3 gives 3 with stdout/stderr apart; killed by SIGKILL gives 137" st

case_begin rt_stdin
head -c 1048576 /dev/urandom >"$T/in.bin"
want=$(sha256sum <"$T/in.bin" | cut -d' ' -f1)
bundle in 'c["process"]["args"] = ["sha256sum"]'
rt run --bundle "$T/in" in <"$T/in.bin" >"$T/in.out" 2>&1
echo $? >"$T/in.rc"
want_rc in 0
grep -q "$want" "$T/in.out" || bad="$bad the guest's sha256 differs;"
check rt_stdin "1 MiB of the caller's stdin reaches the workload (sha256)" in

case_begin rt_exec
bundle ex 'c["process"]["args"] = ["sleep", "1000"]'
rt run --detach --bundle "$T/ex" ex </dev/null >/dev/null 2>&1 || bad="$bad run --detach failed;"
rt exec ex sh -c 'echo from-exec; exit 4' >"$T/ex.out" 2>&1 </dev/null
echo $? >"$T/ex.rc"
want_rc ex 4
want_out ex from-exec
cat >"$T/ex-proc.json" <<'JSON'
{"args": ["sh", "-c", "echo detached >/tmp/mark; sleep 1000"], "cwd": "/", "env": ["PATH=/bin"], "user": {"uid": 0, "gid": 0}}
JSON
rt exec --detach --pid-file "$T/ex.pid" --process "$T/ex-proc.json" ex </dev/null >/dev/null 2>&1 ||
	bad="$bad exec --detach failed;"
epid=$(cat "$T/ex.pid" 2>/dev/null)
kill -0 "$epid" 2>/dev/null || bad="$bad exec pid $epid is not alive;"
sleep 1
rt exec ex cat /tmp/mark >"$T/ex2.out" 2>&1 </dev/null
grep -q detached "$T/ex2.out" || bad="$bad the detached process did not run;"
kill -TERM "$epid" 2>/dev/null
i=0; while kill -0 "$epid" 2>/dev/null && [ "$(cut -d' ' -f3 /proc/$epid/stat 2>/dev/null)" != Z ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
[ $i -ge 100 ] && bad="$bad SIGTERM to the exec pid did not end it;"
rt exec ex nosuchprogram >"$T/ex3.out" 2>&1 </dev/null
echo $? >"$T/ex3.rc"
want_rc ex3 255
want_out ex3 "executable file not found in \$PATH"
rt delete --force ex || bad="$bad delete --force failed;"
[ -e "$ROOT/ex" ] && bad="$bad state left after delete --force;"
check rt_exec "exec: status 4 and output; --detach --pid-file --process, signalled through its pid; a missing program names itself" ex

case_begin rt_console
bundle tt 'c["process"]["terminal"] = True; c["process"]["args"] = ["sh", "-c", "tty; echo TERM=$TERM; stty size"]; c["process"]["consoleSize"] = {"height": 30, "width": 100}'
consock "$T/tt.sock" >"$T/tt.out" 2>"$T/tt.err" </dev/null &
cpid=$!
sleep 0.5
rt run --console-socket "$T/tt.sock" --bundle "$T/tt" tt >"$T/tt.run" 2>&1 </dev/null
echo $? >"$T/tt.rc"
i=0; while kill -0 $cpid 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
kill $cpid 2>/dev/null
want_rc tt 0
want_out tt /dev/pts/
want_out tt TERM=xterm
want_out tt "30 100"
grep -q "got /dev/pts" "$T/tt.err" || bad="$bad the console socket got no pty;"
check rt_console "process.terminal: a pty master over --console-socket; the guest sees a tty of the given size" tt

case_begin rt_errors
bundle bad 'c["process"]["args"] = "sh"'
rt --log "$T/bad.log" --log-format json create --bundle "$T/bad" bad >"$T/bad.out" 2>&1
echo $? >"$T/bad.rc"
want_rc bad 1
want_out bad "process.args: expected an array"
python3 -c 'import json,sys; o=json.load(open(sys.argv[1])); assert o["level"]=="error" and "process.args" in o["msg"] and o["time"]' "$T/bad.log" ||
	bad="$bad --log-format json did not write one {level,msg,time} object;"
[ -e "$ROOT/bad" ] && bad="$bad a failed create left state;"
bundle nok 'c["process"]["args"] = ["true"]'
IGN_KERNEL=/nonexistent/vmlinux rt create --bundle "$T/nok" nok >"$T/nok.out" 2>&1
want_out nok "IGN_KERNEL=./nonexistent/vmlinux."
[ -e "$ROOT/nok" ] && bad="$bad a create without a kernel left state;"
rt kill nosuch 2>&1 | grep -q "does not exist" || bad="$bad kill of an unknown id does not say it does not exist;"
bundle nf 'c["process"]["args"] = ["nosuchprogram"]'
rt --log "$T/nf.log" --log-format json create --bundle "$T/nf" nf </dev/null >"$T/nf.out" 2>&1 &&
	bad="$bad create of a missing program succeeded;"
want_out nf "executable file not found in \$PATH"
python3 -c 'import json,sys; o=json.load(open(sys.argv[1])); assert "executable file not found" in o["msg"]' "$T/nf.log" ||
	bad="$bad the missing program is not one JSON error in the log;"
[ -e "$ROOT/nf" ] && bad="$bad the failed create left state;"
[ -n "$bad" ] && cat "$T/nf.out" >>"$T/bad.out"
check rt_errors "malformed config, missing kernel, unknown id, missing program (at create, as runc): clear errors, one JSON log object, no state left" bad

case_begin rt_hooks
printf '#!/bin/sh\ncat >"%s/hook.$1"\n' "$T" >"$T/hook.sh"
chmod +x "$T/hook.sh"
bundle hk "c['process']['args'] = ['true']; c['hooks'] = {k: [{'path': '$T/hook.sh', 'args': ['hook.sh', k]}] for k in ['prestart', 'createRuntime', 'poststart', 'poststop']}"
rt run --bundle "$T/hk" hk </dev/null >"$T/hk.out" 2>&1
echo $? >"$T/hk.rc"
want_rc hk 0
for k in prestart createRuntime poststart; do
	grep -q '"id":"hk"' "$T/hook.$k" 2>/dev/null || bad="$bad no state on $k's stdin;"
done
rt run --keep --bundle "$T/hk" hk2 </dev/null >/dev/null 2>&1
rt delete hk2
grep -q '"status":"stopped"' "$T/hook.poststop" 2>/dev/null || bad="$bad poststop did not see a stopped state;"
check rt_hooks "prestart, createRuntime, poststart, poststop hooks run on the host with the state on stdin" hk

case_begin rt_mounts
rm -rf "$T/vol" "$T/rwvol"
mkdir -p "$T/vol" "$T/rwvol"
echo "volume file" >"$T/vol/data"
echo "from the host" >"$T/rwvol/in"
echo "hosts from the host" >"$T/hostsfile"
bundle mt "c['process']['args'] = ['sh', '-c', 'cat /etc/hosts /vol/data /rw/in; echo x > /vol/y 2>/dev/null && echo WRITABLE; echo from-the-guest > /rw/out; mkdir /rw/dir; grep \" /rw \" /proc/mounts']; c['mounts'] += [{'destination': '/etc/hosts', 'type': 'bind', 'source': '$T/hostsfile', 'options': ['rbind', 'ro']}, {'destination': '/vol', 'type': 'bind', 'source': '$T/vol', 'options': ['rbind', 'ro']}, {'destination': '/rw', 'type': 'bind', 'source': '$T/rwvol', 'options': ['rbind', 'rw', 'nosuid']}]"
rt run --bundle "$T/mt" mt </dev/null >"$T/mt.out" 2>&1
echo $? >"$T/mt.rc"
want_rc mt 0
want_out mt "hosts from the host"
want_out mt "volume file"
want_out mt "from the host"
want_out mt "^vol1 /rw 9p rw,.*nosuid"
grep -q WRITABLE "$T/mt.out" && bad="$bad the read-only volume was writable;"
[ -e "$T/vol/y" ] && bad="$bad the read-only directory changed;"
[ "$(cat "$T/rwvol/out" 2>/dev/null)" = from-the-guest ] || bad="$bad the host does not see the guest's write;"
[ -d "$T/rwvol/dir" ] || bad="$bad the guest's mkdir did not reach the host;"
bundle dv "c['process']['args'] = ['true']; c['mounts'] += [{'destination': '/dev/null2', 'type': 'bind', 'source': '/dev/null', 'options': ['rbind']}]"
rt create --bundle "$T/dv" dv </dev/null >"$T/dv.out" 2>&1 && bad="$bad a device bind mount was accepted;"
grep -q "mounts\[.*/dev/null.*devices and sockets cannot be passed" "$T/dv.out" || bad="$bad device refusal: $(cat "$T/dv.out");"
[ -e "$ROOT/dv" ] && bad="$bad the refused create left state;"
check rt_mounts "bind mounts: a file copied in; read-only and read-write directories shared live over virtio-9p (guest writes seen on the host); a device refused by name" mt

case_begin rt_list
bundle ls1 'c["process"]["args"] = ["sleep", "1000"]'
rt create --bundle "$T/ls1" lsa </dev/null >/dev/null 2>&1
rt create --bundle "$T/ls1" lsb </dev/null >/dev/null 2>&1
rt create --bundle "$T/ls1" lsa </dev/null >"$T/ls.dup" 2>&1 && bad="$bad a second create with one id succeeded;"
grep -q "already exists" "$T/ls.dup" || bad="$bad duplicate id: $(cat "$T/ls.dup");"
# three creates of one id at once: exactly one wins, the others are refused by
# name and leave the winner's container as it is
cpids=
for k in 1 2 3; do
	rt create --bundle "$T/ls1" lsc </dev/null >"$T/lsc$k.out" 2>&1 &
	cpids="$cpids $!"
done
wait $cpids
won=0
for k in 1 2 3; do
	if grep -q "already exists" "$T/lsc$k.out"; then :; elif [ -s "$T/lsc$k.out" ]; then
		bad="$bad concurrent create $k: $(cat "$T/lsc$k.out");"
	else won=$((won + 1)); fi
done
[ $won = 1 ] || bad="$bad $won of 3 concurrent creates of one id succeeded;"
want_status lsc created
rt delete lsc || bad="$bad delete of the concurrent create's winner failed;"
rt list >"$T/ls.out"
grep -q "^lsa .*created" "$T/ls.out" && grep -q "^lsb .*created" "$T/ls.out" || bad="$bad list lacks lsa/lsb;"
rt list -f json | python3 -c 'import json,sys; ids=sorted(s["id"] for s in json.load(sys.stdin)); assert ids==["lsa","lsb"], ids' ||
	bad="$bad list -f json;"
rt delete lsa && rt delete lsb || bad="$bad delete of created containers failed;"
[ -z "$(ls "$ROOT")" ] || bad="$bad state root not empty: $(ls "$ROOT");"
check rt_list "list (table, json), duplicate ids refused (also 3 creates of one id at once: one wins), created containers deleted" ls

case_begin rt_warm
# Every case above ran as a clone of one warm base: the default profile's.
rt bases --format json >"$T/wb.out" 2>&1
python3 -c 'import json,sys; b=json.load(open(sys.argv[1])); assert len(b)==1 and b[0]["vcpus"]==1 and b[0]["memory_mib"]==256 and b[0]["name"].startswith("1cpu-256M-"), b' "$T/wb.out" ||
	bad="$bad not one base for the default profile: $(cat "$T/wb.out");"
# Clone identity: two clones read different random bytes (the shim's seed; in a
# base this young the kernel's own early reseeding would also see to it), and
# a clone's clock is the host's although its base was saved minutes ago.
bundle rnd 'c["process"]["args"] = ["sh", "-c", "head -c 16 /dev/urandom | od -An -tx1; date +%s"]'
rt run --bundle "$T/rnd" rnd1 </dev/null >"$T/rnd1.out" 2>&1
rt run --bundle "$T/rnd" rnd2 </dev/null >"$T/rnd2.out" 2>&1
r1=$(head -n 1 "$T/rnd1.out"); r2=$(head -n 1 "$T/rnd2.out")
[ -n "$r1" ] && [ "$r1" != "$r2" ] || bad="$bad two clones read the same random bytes ($r1);"
t=$(tail -n 1 "$T/rnd2.out"); now=$(date +%s)
[ -n "$t" ] && [ $((now - t)) -lt 30 ] && [ $((t - now)) -lt 30 ] || bad="$bad the clone's clock says $t, the host's $now;"
# A clone and a cold boot of one bundle: the same output and status.
bundle same 'c["process"]["args"] = ["sh", "-c", "cat /etc/os-release 2>/dev/null | head -n 2; ls /; echo $((6 * 7)); exit 5"]'
rt run --bundle "$T/same" same1 </dev/null >"$T/same1.out" 2>&1
echo $? >"$T/same1.rc"
bundle samecold 'c["process"]["args"] = ["sh", "-c", "cat /etc/os-release 2>/dev/null | head -n 2; ls /; echo $((6 * 7)); exit 5"]; c["annotations"] = {"io.ign.boot": "cold"}'
rt run --bundle "$T/samecold" same2 </dev/null >"$T/same2.out" 2>&1
echo $? >"$T/same2.rc"
want_rc same1 5
want_rc same2 5
cmp -s "$T/same1.out" "$T/same2.out" || bad="$bad clone and cold boot print differently;"
# Another profile is another base; drop removes them and the next run builds anew.
bundle two 'c["process"]["args"] = ["sh", "-c", "grep -c ^processor /proc/cpuinfo"]; c["annotations"] = {"io.ign.vcpus": "2"}'
rt run --bundle "$T/two" two </dev/null >"$T/two.out" 2>&1
grep -qx 2 "$T/two.out" || bad="$bad the 2-vCPU clone sees $(cat "$T/two.out") CPUs;"
[ "$(rt bases --format json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" = 2 ] ||
	bad="$bad no second base for 2 vCPUs;"
rt bases drop nosuchbase 2>"$T/wb.err" && bad="$bad dropping an unknown base succeeded;"
grep -q "does not exist" "$T/wb.err" || bad="$bad unknown base: $(cat "$T/wb.err");"
rt bases drop --all || bad="$bad drop --all failed;"
[ "$(rt bases --format json)" = "[]" ] || bad="$bad bases left after drop --all;"
rt run --bundle "$T/rnd" rnd3 </dev/null >"$T/rnd3.out" 2>&1 || bad="$bad run after drop failed;"
[ "$(rt bases --format json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" = 1 ] ||
	bad="$bad the base was not built again;"
[ -n "$bad" ] && cat "$T/rnd1.out" "$T/rnd2.out" "$T/same1.out" "$T/same2.out" >>"$T/wb.out"
check rt_warm "warm bases: one per profile; each clone reads its own random bytes and has the host's time (its base is minutes old); same output and status as a cold boot; bases list, drop, rebuild" wb
