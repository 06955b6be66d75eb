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
# state_field ID FIELD: one field of `state ID`'s JSON (fails if there is no state)
state_field() { rt state "$1" 2>/dev/null | json_field "$2" 2>/dev/null; }
# status ID: the container's status per `state`, or "gone"
status() { state_field "$1" status || echo gone; }
# nbases: how many warm bases `bases` lists
nbases() { rt bases --format json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'; }
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
# and each of its threads runs under its own seccomp filter
threads_seccomp lc "$pid"
for t in ign-shim vm vcpu0 io console; do want_thread lc "$t"; done
# in its own mount namespace: /proc and the state root's top directory, no /etc
[ "$(ls -A "/proc/$pid/root/" | sort | tr '\n' ' ')" = "$(printf '%s\n' proc "$(echo "$ROOT" | cut -d/ -f2)" | sort | tr '\n' ' ')" ] ||
	bad="$bad the shim's root holds $(ls -A "/proc/$pid/root/" | tr '\n' ' ');"
[ -e "/proc/$pid/root$ROOT/lc/state.json" ] || bad="$bad the shim does not see its state directory;"
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
runs "$pid" && bad="$bad shim $pid still runs;"
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
i=0; while runs "$epid" && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
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
[ "$(nbases)" = 2 ] ||
	bad="$bad no second base for 2 vCPUs;"
rt bases drop nosuchbase 2>"$T/wb.err" && bad="$bad dropping an unknown base succeeded;"
grep -q "does not exist" "$T/wb.err" || bad="$bad unknown base: $(cat "$T/wb.err");"
rt bases drop --all || bad="$bad drop --all failed;"
[ "$(rt bases --format json)" = "[]" ] || bad="$bad bases left after drop --all;"
rt run --bundle "$T/rnd" rnd3 </dev/null >"$T/rnd3.out" 2>&1 || bad="$bad run after drop failed;"
[ "$(nbases)" = 1 ] ||
	bad="$bad the base was not built again;"
[ -n "$bad" ] && cat "$T/rnd1.out" "$T/rnd2.out" "$T/same1.out" "$T/same2.out" >>"$T/wb.out"
check rt_warm "warm bases: one per profile; each clone reads its own random bytes and has the host's time (its base is minutes old); same output and status as a cold boot; bases list, drop, rebuild" wb

# Reset (docs/warm-bases.md): `reset ID` rolls the container's VM back to its
# warm base in place and starts the process again on the same stdio. What the
# process wrote in the guest is gone, a volume is mounted again, the RNG gets a
# new seed, and the shim is the same process with as many fds as before.
case_begin rt_reset
rm -rf "$T/rsvol"; mkdir -p "$T/rsvol"; echo "host-file" >"$T/rsvol/in"
bundle rs "c['process']['args'] = ['sh', '-c', '[ -e /mark ] && echo SEEN; echo x > /mark; echo run \$(head -c 8 /dev/urandom | od -An -tx1 | tr -d \" \") \$(cat /v/in); exec sleep 1000']; c['mounts'] += [{'destination': '/v', 'type': 'bind', 'source': '$T/rsvol', 'options': ['rbind', 'rw']}]"
# nruns NAME: the "run ..." lines in NAME.out; wait_runs NAME N: until there are N (30 s)
nruns() { grep -c '^run ' "$T/$1.out"; }
wait_runs() { i=0; while [ "$(nruns "$1")" -lt "$2" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done; }
rt --debug create --bundle "$T/rs" --pid-file "$T/rs.pid" rs >"$T/rs.out" 2>&1 </dev/null
rt start rs || bad="$bad start failed;"
wait_runs rs 1
pid=$(cat "$T/rs.pid")
rt exec rs sh -c 'echo changed > /mark2' || bad="$bad exec before the reset failed;"
nfd=$(ls "/proc/$pid/fd" | wc -l)
for k in 2 3 4 5 6; do
	rt reset rs 2>>"$T/rs.err" || bad="$bad reset $k failed: $(tail -n 1 "$T/rs.err");"
	wait_runs rs $k
done
# the shim's debug log times each reset: "in T ms (rollback R ms)"
grep -o 'reset to the warm base in .*ms)' "$ROOT/rs/shim.log" | tr -d '()' |
	awk '{print $7, $10}' >"$T/rs.ms"
[ "$(nruns rs)" = 6 ] || bad="$bad $(nruns rs) runs after 5 resets, want 6;"
grep -q SEEN "$T/rs.out" && bad="$bad a reset process saw the file its predecessor wrote;"
[ "$(grep '^run ' "$T/rs.out" | cut -d' ' -f2 | sort -u | wc -l)" = 6 ] || bad="$bad the 6 runs did not read 6 different random values;"
[ "$(grep -c '^run .* host-file$' "$T/rs.out")" = 6 ] || bad="$bad not every run read the volume;"
want_status rs running
runs "$pid" || bad="$bad the shim $pid is gone after the resets;"
[ "$(state_field rs pid)" = "$pid" ] || bad="$bad state's pid changed;"
[ "$(ls "/proc/$pid/fd" | wc -l)" = "$nfd" ] || bad="$bad the shim had $nfd fds, $(ls "/proc/$pid/fd" | wc -l) after 5 resets;"
rt exec rs cat /mark2 >/dev/null 2>&1 && bad="$bad the exec's file outlived the reset;"
rt exec rs cat /mark >"$T/rs.mark" 2>&1 || bad="$bad exec after the resets: $(cat "$T/rs.mark");"
rt kill rs KILL; wait_status rs stopped
rt reset rs 2>"$T/rs.err" && bad="$bad reset of a stopped container succeeded;"
grep -q "cannot reset container .rs.: it is stopped" "$T/rs.err" || bad="$bad stopped: $(cat "$T/rs.err");"
rt delete rs || bad="$bad delete failed;"
rt reset rs 2>"$T/rs.err" && bad="$bad reset of a deleted container succeeded;"
grep -q "does not exist" "$T/rs.err" || bad="$bad deleted: $(cat "$T/rs.err");"
[ "$(wc -l <"$T/rs.ms")" = 5 ] || bad="$bad the shim logged $(wc -l <"$T/rs.ms") resets, want 5;"
echo "IGN_FIGURE reset of a running container (5, medians): rollback $(cut -d' ' -f2 "$T/rs.ms" | sort -n | sed -n 3p) ms, to its process started again $(cut -d' ' -f1 "$T/rs.ms" | sort -n | sed -n 3p) ms"
# In the foreground: the reset process reads the same stdin and its exit status
# is the container's; a created container's reset leaves it created.
rm -f "$T/rsf.fifo"; mkfifo "$T/rsf.fifo"
bundle rsf 'c["process"]["args"] = ["sh", "-c", "echo ready $$; read x; echo got $x; exit 7"]'
( rt run --bundle "$T/rsf" rsf <"$T/rsf.fifo" >"$T/rsf.out" 2>&1; echo $? >"$T/rsf.rc" ) &
exec 7>"$T/rsf.fifo"
i=0; while ! grep -q ready "$T/rsf.out" && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
rt reset rsf 2>>"$T/rsf.out" || bad="$bad reset of the foreground run failed;"
i=0; while [ "$(grep -c ready "$T/rsf.out")" -lt 2 ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
echo hello >&7
exec 7>&-
i=0; while [ ! -s "$T/rsf.rc" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
want_rc rsf 7
[ "$(grep -c ready "$T/rsf.out")" = 2 ] || bad="$bad the foreground run printed 'ready' $(grep -c ready "$T/rsf.out") times;"
grep -qx "got hello" "$T/rsf.out" || bad="$bad the reset process did not read stdin;"
rt delete rsf 2>/dev/null
rt create --bundle "$T/rs" rsc </dev/null >"$T/rsc.out" 2>&1
rt reset rsc || bad="$bad reset of a created container failed;"
want_status rsc created
grep -q '^run ' "$T/rsc.out" && bad="$bad the created container's process ran at the reset;"
rt start rsc; i=0; while ! grep -q '^run ' "$T/rsc.out" && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
[ "$(grep -c '^run ' "$T/rsc.out")" = 1 ] || bad="$bad the created-then-reset container ran $(grep -c '^run ' "$T/rsc.out") times;"
rt delete --force rsc
bundle rscold 'c["process"]["args"] = ["sleep", "1000"]; c["annotations"] = {"io.ign.boot": "cold"}'
rt create --bundle "$T/rscold" rscold </dev/null >/dev/null 2>&1
rt reset rscold 2>"$T/rs.err" && bad="$bad reset of a cold-booted container succeeded;"
grep -q "cold-booted" "$T/rs.err" || bad="$bad cold: $(cat "$T/rs.err");"
want_status rscold created
rt delete --force rscold
[ -n "$bad" ] && cat "$T/rs.out" "$T/rsf.out" >>"$T/rs.err"
check rt_reset "reset: a running clone rolls back to its warm base 5 times (the process starts again on the same stdio, its guest files are gone, the volume is mounted again, new random bytes each time, same shim with the same fds); a foreground run's reset process reads stdin and its exit status is the run's; created stays created; stopped, deleted and cold-booted containers refused" rs

# io.ign.reset-port: the guest asks for its own reset (the browser's key chord)
case_begin rt_guest_reset
bundle gr 'c["process"]["args"] = ["sh", "-c", "echo run $(head -c 8 /dev/urandom | od -An -tx1 | tr -d \" \"); exec sleep 1000"]; c["annotations"] = {"io.ign.reset-port": "1100"}'
rt create --bundle "$T/gr" gr </dev/null >"$T/gr.out" 2>&1 || bad="$bad create failed: $(cat "$T/gr.out");"
rt start gr
wait_runs gr 1
pid=$(state_field gr pid)
rt exec gr vsockcat vsock-connect 2 1100 </dev/null >/dev/null 2>&1  # ends with the VM's rollback
wait_runs gr 2
[ "$(nruns gr)" = 2 ] || bad="$bad the process ran $(nruns gr) times after the guest asked for a reset, want 2;"
[ "$(grep '^run ' "$T/gr.out" | sort -u | wc -l)" = 2 ] || bad="$bad the reset process read the same random bytes;"
want_status gr running
[ "$(state_field gr pid)" = "$pid" ] || bad="$bad the shim changed;"
rt exec gr vsockcat vsock-connect 2 1101 </dev/null >"$T/gr.other" 2>&1 && bad="$bad another host port took a guest connection;"
[ "$(nruns gr)" = 2 ] || bad="$bad a connection to another port reset the container;"
rt delete --force gr
for a in x 0 70000; do
	bundle grbad "c['process']['args'] = ['true']; c['annotations'] = {'io.ign.reset-port': '$a'}"
	rt create --bundle "$T/grbad" grbad </dev/null >"$T/grbad.out" 2>&1 && bad="$bad io.ign.reset-port $a was accepted;"
	grep -q "io.ign.reset-port \`$a\`" "$T/grbad.out" || bad="$bad reset-port $a: $(cat "$T/grbad.out");"
	[ -e "$ROOT/grbad" ] && { bad="$bad the refused create left state;"; rt delete --force grbad; }
done
bundle grcold 'c["process"]["args"] = ["true"]; c["annotations"] = {"io.ign.reset-port": "1100", "io.ign.boot": "cold"}'
rt create --bundle "$T/grcold" grcold </dev/null >"$T/grcold.out" 2>&1 && { bad="$bad reset-port on a cold boot was accepted;"; rt delete --force grcold; }
grep -q "cold-booted container (io.ign.boot=cold) cannot be reset" "$T/grcold.out" || bad="$bad cold: $(cat "$T/grcold.out");"
check rt_guest_reset "io.ign.reset-port: a guest connection to the host's vsock port resets the container (its process runs again with new random bytes, same shim), another port does not; a bad port and a cold boot refused by name" gr

# Application bases (docs/warm-bases.md): with io.ign.ready the first create
# saves the VM once the ready command succeeds, the process running; every
# later create restores that, the process already there.
case_begin rt_appbase
bundle ab 'c["process"]["args"] = ["sh", "-c", "head -c 8 /dev/urandom | od -An -tx1 | tr -d \" \" > /tmp/made; sleep 1; touch /tmp/ready; exec sleep 1000"]; c["annotations"] = {"io.ign.ready": "while [ ! -e /tmp/ready ]; do sleep 0.1; done"}'
napps() { rt bases --format json | python3 -c 'import json,sys; print(len([b for b in json.load(sys.stdin) if "-app-" in b["name"]]))'; }
rt --debug create --bundle "$T/ab" ab1 </dev/null >"$T/ab.out" 2>&1 || bad="$bad create ab1: $(cat "$T/ab.out");"
[ "$(napps)" = 1 ] || bad="$bad $(napps) application bases after the first create, want 1;"
rt start ab1 || bad="$bad start ab1 failed;"
want_status ab1 running
m1=$(rt exec ab1 cat /tmp/made </dev/null 2>&1)
t0=$(date +%s%N)
rt --debug create --bundle "$T/ab" ab2 </dev/null >>"$T/ab.out" 2>&1 || bad="$bad create ab2 failed;"
t1=$(date +%s%N)
rt start ab2
m2=$(rt exec ab2 cat /tmp/made </dev/null 2>&1)
[ -n "$m1" ] && [ "$m1" = "$m2" ] || bad="$bad the clone's process did not come from the base ('$m1' vs '$m2');"
[ "$(napps)" = 1 ] || bad="$bad the second create built another base;"
r1=$(rt exec ab1 sh -c 'head -c 8 /dev/urandom | od -An -tx1' </dev/null); r2=$(rt exec ab2 sh -c 'head -c 8 /dev/urandom | od -An -tx1' </dev/null)
[ -n "$r1" ] && [ "$r1" != "$r2" ] || bad="$bad two clones read the same random bytes;"
rt exec ab2 touch /tmp/mine </dev/null
rt reset ab2 || bad="$bad reset of the clone failed;"
rt exec ab2 ls /tmp/mine </dev/null >/dev/null 2>&1 && bad="$bad the clone's file outlived its reset;"
[ "$(rt exec ab2 cat /tmp/made </dev/null 2>&1)" = "$m1" ] || bad="$bad after the reset the base's process is not there;"
echo "IGN_FIGURE application base clone: create $(((t1 - t0) / 1000000)) ms, its process running"
# in the foreground: killed, the run's status is the process's, and the shim had its exit event
( rt run --keep --bundle "$T/ab" ab3 </dev/null >"$T/ab3.out" 2>&1; echo $? >"$T/ab3.rc" ) &
wait_status ab3 running
rt kill ab3 TERM
i=0; while [ ! -s "$T/ab3.rc" ] && [ $i -lt 300 ]; do sleep 0.2; i=$((i + 1)); done
want_rc ab3 143
grep -q "before the workload's exit event" "$ROOT/ab3/shim.log" && bad="$bad the clone's shim missed the exit event;"
rt delete ab3
for c in ab1 ab2; do rt delete --force $c; done
# a ready command that fails: create fails, no base, no build left
bundle abf 'c["process"]["args"] = ["sleep", "1000"]; c["annotations"] = {"io.ign.ready": "exit 3"}'
rt create --bundle "$T/abf" abf </dev/null >"$T/abf.out" 2>&1 && bad="$bad a failing ready command was accepted;"
grep -q 'io.ign.ready `exit 3` exited with 3' "$T/abf.out" || bad="$bad failing ready: $(cat "$T/abf.out");"
[ "$(napps)" = 1 ] || bad="$bad the failed build left a base;"
ls -a "$ROOT/.bases" | grep -q '^\.build-' && bad="$bad a build directory was left;"
[ -e "$ROOT/abf" ] && bad="$bad the failed create left state;"
bundle abm "c['process']['args'] = ['sleep', '1000']; c['annotations'] = {'io.ign.ready': 'true'}; c['mounts'] += [{'destination': '/v', 'type': 'bind', 'source': '$T', 'options': ['rbind']}]"
rt create --bundle "$T/abm" abm </dev/null >"$T/abm.out" 2>&1 && bad="$bad an application base with a bind mount was accepted;"
grep -q 'bind mount `/v`' "$T/abm.out" || bad="$bad bind mount: $(cat "$T/abm.out");"
bundle abn "c['process']['args'] = ['sleep', '1000']; c['annotations'] = {'io.ign.ready': 'true'}; c['mounts'] += [{'destination': '/w', 'type': 'none', 'source': '$T', 'options': ['rbind']}]"
rt create --bundle "$T/abn" abn </dev/null >"$T/abn.out" 2>&1 && bad="$bad an application base with a type-none rbind mount was accepted;"
grep -q 'bind mount `/w`' "$T/abn.out" || bad="$bad type-none bind mount: $(cat "$T/abn.out");"
# a diff over its profile's base: dropping that drops it too
app=$(rt bases --format json | python3 -c 'import json,sys; print([b["name"] for b in json.load(sys.stdin) if "-app-" in b["name"]][0])')
rt bases drop "${app%%-app-*}" || bad="$bad drop of the profile's base failed;"
[ "$(napps)" = 0 ] || bad="$bad the application base outlived its profile's base;"
[ -n "$bad" ] && cat "$ROOT"/ab*/shim.log >>"$T/ab.out" 2>/dev/null
check rt_appbase "application bases: the first create saves the VM (a diff over the profile's base) once io.ign.ready succeeds; the next create restores it with the process running (the base's file, its own random bytes), reset goes back to it, a killed foreground run exits 143 with its exit event; a failing ready command or a bind mount (type bind, or none with rbind) refused, leaving nothing; dropping the profile's base drops it" ab

# Published ports (docs/runtime.md): a guest vsock port on the host's
# 127.0.0.1, bytes both ways; closed with the container.
case_begin rt_ports
bundle pt 'c["process"]["args"] = ["sh", "-c", "echo hello-from-guest | vsockcat vsock-listen 7000; echo served; exec sleep 1000"]; c["annotations"] = {"io.ign.ports": "7000"}'
rt create --bundle "$T/pt" pt </dev/null >"$T/pt.out" 2>&1 || bad="$bad create failed: $(cat "$T/pt.out");"
rt start pt
rt ports pt >"$T/pt.ports" 2>&1
grep -q '^7000 127\.0\.0\.1:[0-9][0-9]*$' "$T/pt.ports" || bad="$bad ports: $(cat "$T/pt.ports");"
addr=$(awk '$1 == 7000 {print $2}' "$T/pt.ports")
python3 - "$addr" >"$T/pt.client" 2>&1 <<'PY' || bad="$bad the host client failed: $(cat "$T/pt.client");"
import socket, sys, time
host, port = sys.argv[1].rsplit(":", 1)
got = b""
for _ in range(100):  # until the guest's listener is up: before that, accepted and closed
    s = socket.create_connection((host, int(port)), timeout=30)
    s.sendall(b"hi-from-host\n")
    s.shutdown(socket.SHUT_WR)
    got = b"".join(iter(lambda: s.recv(4096), b""))
    if got:
        break
    time.sleep(0.2)
print(got.decode().strip())
assert got == b"hello-from-guest\n", got
PY
i=0; while ! grep -q served "$T/pt.out" && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
grep -q hi-from-host "$T/pt.out" || bad="$bad the guest did not get the host's bytes;"
rt delete --force pt
accepts "$addr" && bad="$bad $addr still accepts after delete;"
bundle pt2 'c["process"]["args"] = ["true"]; c["annotations"] = {"io.ign.ports": "7000,x"}'
rt create --bundle "$T/pt2" pt2 </dev/null >"$T/pt2.out" 2>&1 && bad="$bad a bad io.ign.ports was accepted;"
grep -q 'io.ign.ports: `x`' "$T/pt2.out" || bad="$bad bad ports: $(cat "$T/pt2.out");"
[ -e "$ROOT/pt2" ] && bad="$bad the refused create left state;"
bundle pt3 'c["process"]["args"] = ["sleep", "1000"]'
rt create --bundle "$T/pt3" pt3 </dev/null >/dev/null 2>&1
rt ports pt3 2>"$T/pt3.out" && bad="$bad ports of a container that publishes none succeeded;"
grep -q "publishes no ports" "$T/pt3.out" || bad="$bad no ports: $(cat "$T/pt3.out");"
rt delete --force pt3
check rt_ports "published ports: a guest vsock port on 127.0.0.1 (ports prints it), bytes both ways, closed after delete; a bad io.ign.ports refused by name; ports of a container without any says so" pt

# io.ign.root-image: the bundle names a ready image (absolute, or relative to
# the bundle), used as it is: root.path is an empty directory here, and the
# image cache gets nothing. Not an image, or missing: refused by name.
case_begin rt_root_image
mkdir -p "$T/ri-empty"
ncache() { find "$IGN_CACHE/images" -type f 2>/dev/null | wc -l; }
before=$(ncache)
for fs in ext4 erofs; do
	bundle "ri$fs" "c['root']['path'] = '$T/ri-empty'; c['process']['args'] = ['sh', '-c', 'echo from-image; [ ! -d /lost+found ] || echo lost+found']; c['annotations'] = {'io.ign.root-image': 'img.$fs'}"
	ln -sfn "$D/rootfs.$fs" "$T/ri$fs/img.$fs"
	rt run --bundle "$T/ri$fs" "ri$fs" </dev/null >"$T/ri.out" 2>&1 || bad="$bad $fs: run failed: $(cat "$T/ri.out");"
	# mkfs.ext4 makes a lost+found, mkfs.erofs does not: the given image is the root
	want=$([ $fs = ext4 ] && echo "from-image lost+found" || echo from-image)
	[ "$(echo $(cat "$T/ri.out"))" = "$want" ] ||
		bad="$bad $fs: the guest said: $(cat "$T/ri.out");"
done
[ "$(ncache)" = "$before" ] || bad="$bad the image cache went from $before to $(ncache) files;"
echo "not an image" >"$T/ri-text"
for given in "$T/ri-text:neither erofs nor ext4" "$T/ri-none:No such file"; do
	bundle ri-bad "c['process']['args'] = ['true']; c['annotations'] = {'io.ign.root-image': '${given%%:*}'}"
	rt create --bundle "$T/ri-bad" ri-bad </dev/null >"$T/ri-bad.out" 2>&1 && bad="$bad ${given%%:*} was taken;"
	grep -q "io.ign.root-image.*${given%%:*}.*${given#*:}" "$T/ri-bad.out" || bad="$bad ${given%%:*}: $(cat "$T/ri-bad.out");"
	[ -e "$ROOT/ri-bad" ] && { bad="$bad the refused create left state;"; rt delete --force ri-bad; }
	cat "$T/ri-bad.out" >>"$T/ri.out"
done
check rt_root_image "io.ign.root-image: a ready ext4 or erofs image (relative to the bundle) is the root as it is, root.path unread, nothing built; a file that is no image, or none, refused by name, leaving no state" ri

# Faults (docs/runtime.md, "When things break"): SIGKILL of the shim (which
# holds the VM) after create, after start and during an exec; ign-runtime
# killed in the middle of a create; a state entry damaged by hand. Each time
# `state` tells the truth, `delete` leaves nothing, and other containers
# are not disturbed. Counted in $faults for the figures line.
case_begin rt_faults
faults=0
gone_after_delete() {  # gone_after_delete ID PID: delete works and leaves no state or process
	rt delete "$1" 2>"$T/fa.err" || bad="$bad delete $1 after the fault: $(cat "$T/fa.err");"
	[ -e "$ROOT/$1" ] && bad="$bad $1's state directory left;"
	runs "$2" && bad="$bad $1's shim $2 still runs;"
	pgrep -f "$ROOT/$1" >/dev/null && bad="$bad a process still names $ROOT/$1: $(pgrep -af "$ROOT/$1");"
}
bundle fa 'c["process"]["args"] = ["sleep", "1000"]'
# a bystander that must live through all of it
rt create --bundle "$T/fa" fby </dev/null >/dev/null 2>&1 && rt start fby || bad="$bad bystander create/start failed;"
for point in created running exec; do
	rt create --bundle "$T/fa" "f$point" </dev/null >/dev/null 2>&1 || bad="$bad create f$point failed;"
	pid=$(state_field "f$point" pid)
	[ "$point" = created ] || rt start "f$point" || bad="$bad start f$point failed;"
	if [ "$point" = exec ]; then
		rt exec "f$point" sleep 1000 >/dev/null 2>&1 &
		epid=$!
		sleep 1
	fi
	kill -9 "$pid"
	faults=$((faults + 1))
	i=0; while kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	want_status "f$point" stopped
	if [ "$point" = exec ]; then
		i=0; while kill -0 "$epid" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
		kill -0 "$epid" 2>/dev/null && bad="$bad exec still waits 10 s after its container's shim died;"
		wait "$epid" && bad="$bad exec into a container whose shim died exited 0;"
	fi
	rt start "f$point" 2>"$T/fa.err" && bad="$bad start of f$point after its shim died succeeded;"
	gone_after_delete "f$point" "$pid"
done
# the shim killed while it builds a new profile's warm base (boot, then the
# snapshot write): no base of that profile appears, and the next create
# builds it anew and leaves no build directory
bundle fbld 'c["process"]["args"] = ["echo", "built"]; c.setdefault("annotations", {})["io.ign.memory_mib"] = "160"'
nb0=$(nbases)
rt create --bundle "$T/fbld" fbld </dev/null >/dev/null 2>&1 &
i=0; while ! ls -A "$ROOT/.bases" 2>/dev/null | grep -q '^\.build-' && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
sleep 1
bpid=$(pgrep -f "ign-shim --dir $ROOT/fbld" | head -n 1)
[ -n "$bpid" ] && kill -9 "$bpid" || bad="$bad no shim building a base to kill;"
faults=$((faults + 1))
wait
# killed mid-build, or (a fast machine) just after: either way no half base
nb1=$(nbases)
[ "$nb1" = "$nb0" ] && bld="mid-build" || bld="after its build"
for b in "$ROOT"/.bases/*/; do
	[ -s "$b/snapshot/state" ] && [ -e "$b/snapshot/memory" ] && [ -s "$b/profile" ] ||
		bad="$bad a half base after the killed build: $b: $(ls -R "$b" | tr '\n' ' ');"
done
rt delete --force fbld 2>/dev/null
rt run --bundle "$T/fbld" fbld2 </dev/null >"$T/fbld.out" 2>&1 || bad="$bad the build after a killed one failed: $(cat "$T/fbld.out");"
grep -q built "$T/fbld.out" || bad="$bad no output after the rebuilt base;"
ls -A "$ROOT/.bases" | grep -q '^\.build-' && bad="$bad a build directory is left: $(ls -A "$ROOT/.bases");"
# ign-runtime itself killed during create, at several moments: whatever it
# left is either a created container or stopped, and delete clears it
for ms in 100 shim 1500; do  # "shim": as soon as its shim runs, mid-setup
	"$RT" --root "$ROOT" create --bundle "$T/fa" fk </dev/null >/dev/null 2>&1 &
	rpid=$!
	if [ "$ms" = shim ]; then
		i=0; while ! pgrep -f "ign-shim --dir $ROOT/fk" >/dev/null && [ $i -lt 300 ]; do sleep 0.02; i=$((i + 1)); done
		pgrep -f "ign-shim --dir $ROOT/fk" >/dev/null || bad="$bad no shim of fk seen to kill its create;"
	else
		sleep "$(echo "$ms" | awk '{print $1 / 1000}')"
	fi
	kill -9 "$rpid" 2>/dev/null
	wait "$rpid" 2>/dev/null
	faults=$((faults + 1))
	# unless create got its "ok" (fk created), the shim goes with it at once,
	# not when its setup would have ended
	i=0; while pgrep -f "ign-shim --dir $ROOT/fk" >/dev/null && [ $i -lt 5 ]; do sleep 0.1; i=$((i + 1)); done
	s=$(status fk)
	[ "$s" != created ] && pgrep -f "ign-shim --dir $ROOT/fk" >/dev/null &&
		bad="$bad fk's shim outlived its killed create by 0.5 s ($ms, fk $s);"
	case $s in gone|created|stopped) ;; *) bad="$bad after ign-runtime was killed at $ms ms, fk is $s;" ;; esac
	[ ! -e "$ROOT/fk" ] || rt delete --force fk 2>"$T/fa.err" || bad="$bad delete of fk ($s, killed at $ms ms): $(cat "$T/fa.err");"
	[ -e "$ROOT/fk" ] && bad="$bad fk's state directory left (killed at $ms ms);"
	sleep 0.5
	pgrep -f "$ROOT/fk" >/dev/null && bad="$bad a process still names fk (killed at $ms ms): $(pgrep -af "$ROOT/fk");"
done
# a state entry damaged by hand: named in the error, hidden from list, does
# not block others, goes with delete --force
rt create --bundle "$T/fa" fdmg </dev/null >/dev/null 2>&1 || bad="$bad create fdmg failed;"
dpid=$(state_field fdmg pid)
echo '{"ociVersion": "1.0.2", "id": ' >"$ROOT/fdmg/state.json"
faults=$((faults + 1))
rt state fdmg >/dev/null 2>"$T/fa.err" && bad="$bad state of a damaged entry succeeded;"
grep -q "state.json" "$T/fa.err" || bad="$bad the damaged entry's error does not name state.json: $(cat "$T/fa.err");"
rt list -q >"$T/fa.list" 2>&1 || bad="$bad list failed beside a damaged entry;"
grep -qx fby "$T/fa.list" || bad="$bad list lost the bystander beside a damaged entry;"
rt delete fdmg 2>/dev/null && bad="$bad delete of a damaged entry without --force succeeded;"
rt delete --force fdmg 2>"$T/fa.err" || bad="$bad delete --force of a damaged entry: $(cat "$T/fa.err");"
grep -E '^(State|PPid):' "/proc/$dpid/status" >>"$T/fa.out" 2>&1  # shown if the check below fails
[ -e "$ROOT/fdmg" ] && bad="$bad the damaged entry's directory is left;"
runs "$dpid" && {
	bad="$bad the damaged entry's shim $dpid still runs after delete --force;"; kill -9 "$dpid"; }
want_status fby running
rt kill fby KILL && wait_status fby stopped
rt delete fby || bad="$bad delete of the bystander failed;"
[ -z "$(ls "$ROOT")" ] || bad="$bad state root not empty: $(ls "$ROOT");"
check rt_faults "SIGKILL of the shim after create, after start, during exec, during a warm base build; ign-runtime killed mid-create (at 100 ms, once its shim runs, at 1500 ms: the shim dies with it); a damaged state.json: state tells the truth, delete leaves nothing, a bystander runs on ($faults faults; the base build was killed $bld)" fa
echo "IGN_FIGURE faults injected: $faults"

# A full disk: the state root (and so the warm bases) and the image cache on
# small tmpfs mounts. A base or image that does not fit fails the create by
# name and leaves no part of itself; an existing base stays usable.
case_begin rt_full
FR=$T/full-root FC=$T/full-cache
mkdir -p "$FR" "$FC"
mount -t tmpfs -o size=8m tmpfs "$FR" && mount -t tmpfs -o size=1m tmpfs "$FC" || bad="$bad tmpfs mounts failed;"
frt() { IGN_CACHE=$FC timeout -k 10 "$TMO" "$RT" --root "$FR" "$@"; }
bundle fu 'c["process"]["args"] = ["echo", "fits"]'
# the image cache (1 MiB) cannot hold the root image
frt run --bundle "$T/fu" fu1 </dev/null >"$T/fu.out" 2>&1 && bad="$bad a run with a 1 MiB image cache succeeded;"
want_out fu "image cache .* full\|MiB free"
[ -z "$(find "$FC" -type f)" ] || bad="$bad the image cache holds $(find "$FC" -type f);"
mount -o remount,size=64m "$FC"
# the state root (8 MiB) cannot hold the warm base's memory file
frt run --bundle "$T/fu" fu2 </dev/null >"$T/fu.out2" 2>&1 && bad="$bad a run whose base cannot fit succeeded;"
grep -q "No space left\|full" "$T/fu.out2" || bad="$bad no space error: $(head -c 300 "$T/fu.out2");"
[ -e "$FR/fu2" ] && bad="$bad the failed create left its state directory;"
ls -A "$FR/.bases" 2>/dev/null | grep -v '\.lock$' >"$T/fu.bases"
[ -s "$T/fu.bases" ] && bad="$bad a part of the base is left: $(cat "$T/fu.bases");"
used=$(df -k "$FR" | awk 'NR==2 {print $3}')
[ "$used" -lt 512 ] || bad="$bad $used KiB still used on the full root;"
# room for one base: it is built, then a second profile's base does not fit
mount -o remount,size=96m "$FR"
frt run --bundle "$T/fu" fu3 </dev/null >"$T/fu.out3" 2>&1 || bad="$bad run with room failed: $(head -c 300 "$T/fu.out3");"
grep -q fits "$T/fu.out3" || bad="$bad no output from the run with room;"
base1=$(ls "$FR/.bases" | grep -v '\.lock$')
free=$(df -k "$FR" | awk 'NR==2 {print $4}')
dd if=/dev/zero of="$FR/filler" bs=1k count=$((free - 2048)) 2>/dev/null
bundle fu2 'c["process"]["args"] = ["echo", "fits"]; c.setdefault("annotations", {})["io.ign.memory_mib"] = "192"'
frt run --bundle "$T/fu2" fu4 </dev/null >"$T/fu.out4" 2>&1 && bad="$bad a second base fit in 2 MiB;"
[ "$(ls "$FR/.bases" | grep -v '\.lock$')" = "$base1" ] || bad="$bad bases after the failed build: $(ls "$FR/.bases");"
rm -f "$FR/filler"
frt run --bundle "$T/fu" fu5 </dev/null >"$T/fu.out5" 2>&1 || bad="$bad the first base no longer restores: $(head -c 300 "$T/fu.out5");"
grep -q fits "$T/fu.out5" || bad="$bad no output from the first base's clone;"
frt list -q | grep -q . && bad="$bad containers left: $(frt list -q);"
umount "$FR" "$FC"
cat "$T/fu.out2" "$T/fu.out4" >>"$T/fu.out" 2>/dev/null
check rt_full "a full image cache and a full state root: the create fails naming the space, no half image or base is left, an existing base still restores" fu

# No leaks under load: IGN_LEAK_CYCLES (200) create/start/exit/delete cycles
# one after another, then 20 containers at once, each in its own network
# namespace (a veth with an address, as podman's netavark leaves it: the shim
# adds its tap there). Before and after, the same processes, descriptors,
# mounts, links, namespaces and cache files.
case_begin rt_leaks
: >"$T/lk.out"
resources() {
	echo "shims $(pgrep -c -x ign-shim)"
	echo "mounts $(wc -l </proc/mounts)"
	echo "links $(ip -o link | wc -l)"
	echo "netns $(ip netns list | wc -l)"
	echo "cache files $(find "$IGN_CACHE" "$ROOT/.bases" -type f 2>/dev/null | wc -l)"
	echo "state entries $(ls "$ROOT" | wc -l)"
	python3 -c 'import os
me = os.getpid(); n = 0
for p in os.listdir("/proc"):
    if p.isdigit() and int(p) != me:
        try: n += len(os.listdir("/proc/%s/fd" % p))
        except OSError: pass
print("fds", n)'
}
bundle lk 'c["process"]["args"] = ["true"]'
rt run --bundle "$T/lk" lkwarm </dev/null >/dev/null 2>&1  # the image and base exist before counting
ip netns add ignlk0 && ip netns del ignlk0  # the first `ip netns add` mounts /run/netns for good
resources >"$T/lk.before"
cycles=${IGN_LEAK_CYCLES:-200}
c=0  # not i: wait_status counts with i
t0=$(date +%s)
while [ $c -lt "$cycles" ]; do
	rt --log "$T/lk.log" create --bundle "$T/lk" "lk$c" </dev/null >/dev/null 2>"$T/lk.err" &&
		rt start "lk$c" 2>>"$T/lk.err" || {
		bad="$bad cycle $c: $(cat "$T/lk.err");"
		tail -n 20 "$T/lk.log" >"$T/lk.out"
		cat "$ROOT/lk$c/console.log" >>"$T/lk.out" 2>/dev/null
		break
	}
	wait_status "lk$c" stopped
	rt delete "lk$c" 2>"$T/lk.err" || {
		bad="$bad cycle $c delete: $(cat "$T/lk.err");"
		# a `true` that never stopped (seen once in 200-cycle runs): what the shim and guest said
		{ tail -n 15 "$T/lk.log"; tail -n 15 "$ROOT/lk$c/shim.log"; tail -n 15 "$ROOT/lk$c/console.log"; } 2>/dev/null | sed 's/^/# lk: /'
		rt delete --force "lk$c"
		break
	}
	c=$((c + 1))
done
t1=$(date +%s)
echo "IGN_FIGURE leak cycles: $c create/start/delete in $((t1 - t0)) s"
# 20 at once, each with a network
for k in $(seq 1 20); do
	ip netns add "ignlk$k" && ip link add "lkh$k" type veth peer name eth0 netns "ignlk$k" &&
		ip netns exec "ignlk$k" ip addr add "10.77.$k.2/24" dev eth0 &&
		ip netns exec "ignlk$k" ip link set eth0 up || bad="$bad netns ignlk$k setup failed;"
	bundle "lkn$k" "c['process']['args'] = ['sleep', '1000']; c['linux']['namespaces'] = [n for n in c['linux']['namespaces'] if n['type'] != 'network'] + [{'type': 'network', 'path': '/run/netns/ignlk$k'}]"
done
t0=$(date +%s)
for k in $(seq 1 20); do
	rt create --bundle "$T/lkn$k" "lkn$k" </dev/null >"$T/lkn$k.out" 2>&1 &
done
wait
for k in $(seq 1 20); do
	rt start "lkn$k" 2>>"$T/lkn$k.out" || bad="$bad lkn$k did not start: $(cat "$T/lkn$k.out");"
done
t1=$(date +%s)
up=0
for k in $(seq 1 20); do
	[ "$(status "lkn$k")" = running ] && ip netns exec "ignlk$k" ip link show ign0 >/dev/null 2>&1 && up=$((up + 1))
done
[ $up = 20 ] || bad="$bad $up of 20 containers run with their tap;"
echo "IGN_FIGURE 20 containers at once: created and started in $((t1 - t0)) s, $up running"
for k in $(seq 1 20); do rt delete --force "lkn$k" 2>>"$T/lk.err" || bad="$bad delete --force lkn$k failed;"; done
for k in $(seq 1 20); do
	ip netns exec "ignlk$k" ip link show ign0 >/dev/null 2>&1 && bad="$bad ign0 left in ignlk$k;"
	ip netns exec "ignlk$k" tc filter show dev eth0 ingress 2>/dev/null | grep -q . && bad="$bad a tc filter left in ignlk$k;"
	ip link del "lkh$k" 2>/dev/null; ip netns del "ignlk$k"
done
sleep 1
resources >"$T/lk.after"
# a leak is a count that grew: L1's own processes may close a descriptor meanwhile
paste -d' ' "$T/lk.before" "$T/lk.after" | awk '{ n = NF / 2; if ($NF > $n) exit 1 }' ||
	bad="$bad resources grew, before/after: $(paste -d' ' "$T/lk.before" "$T/lk.after" | tr '\n' ';')"
{ cat "$T/lk.before" "$T/lk.after"; ls -la "$ROOT"; } >>"$T/lk.out"
check rt_leaks "$c create/start/delete cycles and 20 containers at once with networks: no shim, descriptor, mount, link, namespace, tap, filter or cache file left" lk
