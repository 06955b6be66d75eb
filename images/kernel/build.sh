#!/bin/bash
# Build the guest kernel from Debian's linux-source package with microvm.config.
#
# usage: images/kernel/build.sh          builds (or finds) the kernel, prints its directory
# The result is cached outside the tree, keyed by the source package version, the config
# fragment and this script:  $IGN_CACHE_DIR/kernel/<key>/{vmlinux,bzImage,config,build-time}
# IGN_CACHE_DIR defaults to ${XDG_CACHE_HOME:-$HOME/.cache}/ign-runtime.
# A cache entry appears only by rename of a complete directory.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
pkg=linux-source-6.1
cache=${IGN_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/ign-runtime}/kernel

ver=$(dpkg-query -W -f '${Version}' "$pkg" 2>/dev/null) || {
	echo "build.sh: Debian package $pkg is not installed (apt-get install $pkg)" >&2
	exit 1
}
tarball=/usr/src/$pkg.tar.xz
[ -r "$tarball" ] || { echo "build.sh: $tarball is missing (reinstall $pkg)" >&2; exit 1; }

key=$( (echo "$pkg $ver"; cat "$here/microvm.config" "$here/build.sh") | sha256sum | cut -c1-16)
out=$cache/$key
if [ -f "$out/vmlinux" ]; then
	echo "$out"
	exit 0
fi

mkdir -p "$cache"
work=$(mktemp -d "$cache/.build-$key.XXXXXX")
trap 'rm -rf "$work"' EXIT
start=$(date +%s)
echo "kernel: building $pkg $ver with microvm.config (key $key), log in $work/build.log" >&2
tar -C "$work" -xf "$tarball"
src=$work/$pkg
make -C "$src" -s allnoconfig KCONFIG_ALLCONFIG="$here/microvm.config" >"$work/build.log" 2>&1

# allnoconfig silently drops options whose dependencies are missing: refuse that.
python3 - "$here/microvm.config" "$src/.config" <<'PY'
import re, sys
want = {}
for line in open(sys.argv[1]):
    line = line.strip()
    if line and not line.startswith('#'):
        k, v = line.split('=', 1)
        want[k] = v
have = {}
for line in open(sys.argv[2]):
    m = re.match(r'(CONFIG_\w+)=(.*)', line)
    if m:
        have[m[1]] = m[2]
bad = [f"{k}: want {v}, got {have.get(k, 'n')}" for k, v in want.items() if have.get(k, 'n') != v]
if bad:
    sys.exit("microvm.config options not applied (missing dependency?):\n  " + "\n  ".join(bad))
PY

jobs=$(nproc)
if ! make -C "$src" -j"$jobs" vmlinux bzImage >>"$work/build.log" 2>&1; then
	tail -n 30 "$work/build.log" >&2
	echo "build.sh: kernel build failed, full log above in $work/build.log" >&2
	exit 1
fi
mkdir "$work/out"
cp "$src/vmlinux" "$src/arch/x86/boot/bzImage" "$work/out/"
cp "$src/.config" "$work/out/config"
secs=$(( $(date +%s) - start ))
echo "$secs" >"$work/out/build-time"
echo "$pkg $ver" >"$work/out/source"
mv -T "$work/out" "$out" 2>/dev/null || [ -f "$out/vmlinux" ]
echo "kernel: built in ${secs}s on $jobs cores: $out" >&2
echo "$out"
