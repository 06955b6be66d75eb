#!/bin/bash
# usage: mkinitramfs.sh INIT OUT.cpio.gz [BIN...] -- a newc initramfs with INIT as
# /init and each BIN (static executables) in /bin.
set -euo pipefail
init=$1 out=$2
shift 2
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{proc,sys,dev,bin,tmp}
cp "$init" "$root/init"
for b in "$@"; do cp "$b" "$root/bin/"; done
(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) | gzip -9n >"$out.tmp"
mv "$out.tmp" "$out"
