#!/bin/bash
# usage: mkinitramfs.sh INIT OUT.cpio.gz -- a newc initramfs with INIT as /init.
set -euo pipefail
init=$1 out=$2
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{proc,sys,dev}
cp "$init" "$root/init"
(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) | gzip -9n >"$out.tmp"
mv "$out.tmp" "$out"
