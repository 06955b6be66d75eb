#!/bin/bash
# make browser: the browser image (images/browser/build.sh, cached) and its
# erofs image (ign-mkimage), this bundle's rootfs and rootfs.erofs linked to
# them, then `ign-runtime run browser` here in the foreground, printing where
# to connect (docs/browser.md). Needs /dev/kvm.
# usage: bundles/browser/run.sh BUILD_DIR KERNEL_DIR [ID]
# (BUILD_DIR: a build or install tree, with bin/ign-runtime, bin/ign-mkimage and
# share/ign-runtime/ign-init.cpio.gz; KERNEL_DIR: the guest's vmlinux)
set -euo pipefail
build=${1:?usage: run.sh BUILD_DIR KERNEL_DIR [ID]}
kdir=${2:?usage: run.sh BUILD_DIR KERNEL_DIR [ID]}
id=${3:-browser}
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
rt=$(cd "$build" && pwd)/bin/ign-runtime
rtargs=()  # IGN_ROOT: a state root other than ign-runtime's default (the tests' own)
[ -z "${IGN_ROOT:-}" ] || rtargs=(--root "$IGN_ROOT")

if ! [ -c /dev/kvm ] || ! [ -r /dev/kvm ] || ! [ -w /dev/kvm ]; then
	echo "browser: this machine has no usable /dev/kvm, and Firefox needs a real one to be" >&2
	echo "browser: usable; \`make check\` runs it nested, slowly, in its browser suite." >&2
	exit 1
fi
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo -E "$@"; fi; }
rootfs=$(as_root "$top/images/browser/build.sh")
ln -sfn "$rootfs" "$here/rootfs"
# its read-only image beside it, once (the bundle's io.ign.root-image): a
# create then uses it as it is, with no walk of the tree
image=$(as_root "$build/bin/ign-mkimage" --cache "${rootfs%/rootfs}/images" "$rootfs")
ln -sfn "$image" "$here/rootfs.erofs"
export IGN_KERNEL=$kdir/vmlinux IGN_INITRD=$(cd "$build" && pwd)/share/ign-runtime/ign-init.cpio.gz
cd "$here"
# the ports once the shim listens, while the session runs in the foreground;
# then the noVNC page (viewer.sh), which goes when the session does
(
	for _ in $(seq 600); do
		ports=$(as_root "$rt" "${rtargs[@]}" ports "$id" 2>/dev/null) && break
		sleep 0.2
	done
	vnc=$(echo "$ports" | awk '$1 == 5900 {print $2}')
	bidi=$(echo "$ports" | awk '$1 == 9222 {print $2}')
	echo "browser: VNC on $vnc (vncviewer $vnc); WebDriver BiDi on ws://$bidi/session"
	echo "browser: Ctrl-C ends the session, and everything it wrote with it"
	echo "browser: networking off (the bundle names no network namespace): only the pages in its image"
	exec "$here/viewer.sh" "$vnc" "browser: in a web browser: "
) >&2 &
viewer=$!
trap 'pkill -P "$viewer" 2>/dev/null; kill "$viewer" 2>/dev/null' EXIT
status=0
as_root "$rt" "${rtargs[@]}" run "$id" || status=$?
exit $status
