# The browser's helpers, for its test suite (browser.sh) and its benchmark
# (bench/browser-in-vm.sh): ign-runtime with a state root and image cache
# of its own under $T, the browser bundle in $T/brb on the image
# tests/vm/run.sh built, and ways to look at a session. Needs D (the stage
# directory) and T (a scratch directory); python3 from the host root in L1.
BRT="$D/prefix/bin/ign-runtime"
BROOT=$T/br-root
BCACHE=$T/br-cache
BTMO=900
brt() { IGN_CACHE=$BCACHE timeout -k 10 "$BTMO" "$BRT" --root "$BROOT" "$@"; }
# host paths: under /host in the nested L1, as they are natively
hostpath() { if [ -e "/host$1" ]; then echo "/host$1"; else echo "$1"; fi; }
top=$(hostpath "$(cat "$D/top")")  # the source tree
tools=$top/tests/tools
mkdir -p "$T/brb"
# the bundle as shipped (the same config.json and image: make browser's run.sh
# finds this suite's base)
cp "$top/bundles/browser/config.json" "$T/brb/"
ln -sfn "$(hostpath "$(cat "$D/browser-rootfs")")" "$T/brb/rootfs"
ln -sfn "$(hostpath "$(cat "$D/browser-image")")" "$T/brb/rootfs.erofs"
now_ms() { echo $(($(date +%s%N) / 1000000)); }
port_of() { brt ports "$1" 2>/dev/null | awk -v p="$2" '$1 == p {print $2}'; }
# marker ID: the session's screen, through VNC, shows the homepage's band (#ff00aa)
marker() { home_on "$(port_of "$1" 5900)" "$T/$1.vnc"; }
# home_on WHERE OUT: the screen at WHERE (vncpeek.py's HOST:PORT or ws:// form) shows it
home_on() {
	python3 "$tools/vncpeek.py" "$1" 10,10 1200,80 600,500 >"$2" 2>&1 &&
		grep -q '^10,10 255 0 170$' "$2" && grep -q '^1200,80 255 0 170$' "$2"
}
# in_use ID: the guest's memory in use (MemTotal - MemAvailable), in MiB
in_use() {
	brt exec "$1" cat /proc/meminfo 2>/dev/null |
		awk '/^MemTotal:/ {t = $2} /^MemAvailable:/ {a = $2} END {if (t) print int((t - a) / 1024)}'
}
