#!/bin/sh
# create + start + wait for exit of a bundle whose process is `echo hello`:
# `RUNTIME run --bundle B ID` wall time, N runs each (default 5), medians and
# ratios against runc and crun on the same busybox rootfs. ign-runtime runs
# each container as a clone of its warm base (built by the first run, timed
# apart), and as a cold boot (io.ign.boot=cold) for comparison; its root image
# is built once before the runs (the cache is warm, as it is for every
# container after an image's first).
D=${1:?usage: runtime-in-vm.sh DIR}
N=${IGN_BENCH_RUNS:-5}
T=$(mktemp -d)
export IGN_CACHE=$T/cache
nested=
grep -q 'TCG' /proc/cpuinfo 2>/dev/null && nested=", nested KVM under QEMU TCG (absolute figures ~10x native or worse)"
echo "bench: machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) CPUs, $(uname -r)$nested"

# one bundle per runtime, from each one's own `spec`, the same rootfs and process
mkbundle() {  # mkbundle NAME SPEC-COMMAND...
	mkdir -p "$T/$1"
	(cd "$T/$1" && shift && "$@")
	python3 - "$T/$1/config.json" "$D/rootfs" "$1" <<'PY'
import json, sys
p, rootfs, name = sys.argv[1:4]
c = json.load(open(p))
c["root"] = {"path": rootfs, "readonly": True}
c["process"]["terminal"] = False
c["process"]["args"] = ["echo", "hello"]
if name == "ign-cold":
    c["annotations"] = {"io.ign.boot": "cold"}
json.dump(c, open(p, "w"))
PY
}
now_ms() { date +%s%N | cut -b1-13; }
median() { sort -n "$1" | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }

mkbundle ign "$D/prefix/bin/ign-runtime" spec
mkbundle ign-cold "$D/prefix/bin/ign-runtime" spec
set --
for rt in runc crun; do
	if command -v $rt >/dev/null; then mkbundle $rt $rt spec; set -- "$@" $rt; fi
done
t0=$(now_ms)
"$D/prefix/bin/ign-runtime" --root "$T/root-ign" run --bundle "$T/ign" warmup >/dev/null 2>&1 </dev/null
echo "bench: ign: the first run (root image and warm base built) took $(($(now_ms) - t0)) ms"
for name in ign ign-cold "$@"; do
	bin=$name
	root=$T/root-$name
	case $name in ign*) bin="$D/prefix/bin/ign-runtime" root=$T/root-ign ;; esac  # one base
	: >"$T/$name.ms"
	for i in $(seq "$N"); do
		t0=$(now_ms)
		out=$("$bin" --root "$root" run --bundle "$T/$name" "b$i" 2>&1 </dev/null)
		t1=$(now_ms)
		[ "$out" = hello ] || { echo "bench: $name run $i printed: $out"; continue; }
		echo $((t1 - t0)) >>"$T/$name.ms"
	done
	echo "bench: $name: create+start+exit median $(median "$T/$name.ms") ms over $(wc -l <"$T/$name.ms") runs"
done
ign=$(median "$T/ign.ms")
for rt in ign-cold "$@"; do
	peer=$(median "$T/$rt.ms")
	[ -n "$peer" ] && [ "$peer" -gt 0 ] &&
		echo "bench: ign-runtime (warm clone) / $rt = $(awk "BEGIN {printf \"%.2f\", $ign / $peer}")x"
done
rm -rf "$T"
