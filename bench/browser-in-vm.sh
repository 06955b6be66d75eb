#!/bin/sh
# The browser (docs/browser.md), where /dev/kvm is. Time from `create` to
# the homepage's marker band on the session's screen (read through its VNC
# port, polled), N runs each (IGN_BENCH_RUNS, default 3):
#   cold  the bundle with io.ign.boot=cold and no ready command: the VM boots,
#         Xvfb and Firefox start, the homepage is painted
#   warm  create + start of a clone of the browser's warm base (built once
#         before, timed apart): Firefox is on the homepage at restore
# medians and the cold/warm ratio. Then K sessions at once (IGN_BENCH_SESSIONS,
# default 10), all on the homepage: each shim's RSS and PSS (smaps_rollup;
# the shim holds its VM's memory), and the machine's memory in use.
D=${1:?usage: browser-in-vm.sh DIR}
N=${IGN_BENCH_RUNS:-3}
K=${IGN_BENCH_SESSIONS:-10}
T=$(mktemp -d)
. "$D/browser-lib.sh"
nested=
grep -q 'TCG' /proc/cpuinfo 2>/dev/null && nested=", nested KVM under QEMU TCG (absolute figures ~10-100x native)"
echo "bench: machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) CPUs, $(free -m | awk '/^Mem:/ {print $2}') MiB, $(uname -r)$nested"

median() { sort -n "$1" | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
# to_home ID T0 [MS]: waits (up to MS, default 900 s) for the homepage on ID's
# screen; prints ms since T0. A session that stopped fails at once, with the
# end of its shim's log (why its VM ended).
to_home() {
	until marker "$1"; do
		# ports refuses a stopped or gone container by name: no JSON to parse in the timed loop
		case $(brt ports "$1" 2>&1) in *"is stopped"* | *"does not exist"*)
			echo "bench: $1 stopped before it showed the homepage: $(tail -n 3 "$BROOT/$1/shim.log" 2>/dev/null | tr '\n' ' ')" >&2
			return 1
		esac
		[ $(($(now_ms) - $2)) -lt "${3:-900000}" ] || { echo "bench: $1 never showed the homepage: $(cat "$T/$1.vnc"); ports: $(brt ports "$1" 2>&1)" >&2; return 1; }
		sleep 1
	done
	echo $(($(now_ms) - $2))
}
mkdir -p "$T/cold"
ln -s "$(readlink "$T/brb/rootfs")" "$T/cold/rootfs"
ln -s "$(readlink "$T/brb/rootfs.erofs")" "$T/cold/rootfs.erofs"
python3 - "$T/brb/config.json" "$T/cold/config.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
del c["annotations"]["io.ign.ready"]
del c["annotations"]["io.ign.reset-port"]  # a cold boot has no base to go back to
c["annotations"]["io.ign.boot"] = "cold"
json.dump(c, open(sys.argv[2], "w"))
PY

# the warm base, timed apart: its create is a cold boot, the paint and the save
t0=$(now_ms)
brt create --bundle "$T/brb" base </dev/null >"$T/base.out" 2>&1 || { echo "bench: no warm base:"; cat "$T/base.out"; exit 1; }
echo "bench: the warm base (first create: cold boot, painted homepage, saved): $(($(now_ms) - t0)) ms"
brt delete --force base
: >"$T/cold.ms"; : >"$T/warm.ms"
run=0
while [ $run -lt "$N" ]; do
	t0=$(now_ms)
	brt run -d --bundle "$T/cold" c$run </dev/null >"$T/c.out" 2>&1 && to_home c$run "$t0" >>"$T/cold.ms" ||
		echo "bench: cold run $run failed: $(tail -n 3 "$T/c.out")"
	brt delete --force c$run
	t0=$(now_ms)
	brt create --bundle "$T/brb" w$run </dev/null >"$T/w.out" 2>&1 && brt start w$run && to_home w$run "$t0" >>"$T/warm.ms" ||
		echo "bench: warm run $run failed: $(tail -n 3 "$T/w.out")"
	brt delete --force w$run
	run=$((run + 1))
done
c=$(median "$T/cold.ms")
w=$(median "$T/warm.ms")
echo "bench: cold boot to the painted homepage  $c ms (median of $(wc -l <"$T/cold.ms") of $N runs)"
echo "bench: warm clone to its first frame      $w ms (median of $(wc -l <"$T/warm.ms") of $N runs)"
awk -v a="$c" -v b="$w" 'BEGIN { if (a > 0 && b > 0) printf "bench: ratio cold / warm: %.1fx\n", a / b }'

# K sessions at once (IGN_BENCH_SESSIONS=0: none)
[ "$K" -gt 0 ] || { rm -rf "$T"; exit 0; }
used0=$(free -m | awk '/^Mem:/ {print $3}')
j=0
while [ $j -lt "$K" ]; do
	brt create --bundle "$T/brb" s$j </dev/null >/dev/null 2>&1 && brt start s$j
	j=$((j + 1))
done
alive=0 rss=0 pss=0 j=0
while [ $j -lt "$K" ]; do
	if to_home s$j "$(now_ms)" 300000 >/dev/null; then  # the first ones are up by now
		pid=$(brt state s$j | python3 -c 'import json, sys; print(json.load(sys.stdin)["pid"])')
		alive=$((alive + 1))
		rss=$((rss + $(awk '/^Rss:/ {print $2}' "/proc/$pid/smaps_rollup")))
		pss=$((pss + $(awk '/^Pss:/ {print $2}' "/proc/$pid/smaps_rollup")))
	fi
	j=$((j + 1))
done
used=$(($(free -m | awk '/^Mem:/ {print $3}') - used0))
j=0
while [ $j -lt "$K" ]; do brt delete --force s$j; j=$((j + 1)); done
if [ "$alive" -gt 0 ]; then
	echo "bench: $K sessions at once, $alive on the homepage: per session RSS $((rss / alive / 1024)) MiB, PSS $((pss / alive / 1024)) MiB (1024 MiB guests); machine memory in use grew $used MiB"
else
	echo "bench: $K sessions at once: none on the homepage"
fi
rm -rf "$T"
