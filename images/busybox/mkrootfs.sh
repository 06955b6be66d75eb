#!/bin/bash
# usage: mkrootfs.sh DIR [BIN...] -- a minimal OCI-style rootfs in DIR from
# Debian's busybox-static: /bin/busybox, a link per applet, /etc/passwd and
# group, and each static BIN in /usr/bin. The test bundles' rootfs. Times are
# fixed (BINs keep theirs), so the image key changes only with the contents.
set -euo pipefail
dir=${1:?usage: mkrootfs.sh DIR [BIN...]}
shift
bb=/bin/busybox
[ -x "$bb" ] || { echo "mkrootfs: $bb missing (apt-get install busybox-static)" >&2; exit 1; }
rm -rf "$dir"
mkdir -p "$dir"/{bin,sbin,usr/bin,usr/sbin,etc,root,tmp,proc,sys,dev,run,var/tmp}
chmod 1777 "$dir/tmp" "$dir/var/tmp"
cp "$bb" "$dir/bin/busybox"
for applet in $("$bb" --list-full); do
	[ -e "$dir/$applet" ] || ln -s /bin/busybox "$dir/$applet"
done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$dir/etc/passwd"
printf 'root:x:0:\ntty:x:5:\nnogroup:x:65534:\n' >"$dir/etc/group"
echo "ign-busybox" >"$dir/etc/hostname"
find "$dir" -exec touch -h -d @1700000000 {} +
for b in "$@"; do cp -p "$b" "$dir/usr/bin/"; done
touch -d @1700000000 "$dir/usr/bin"
