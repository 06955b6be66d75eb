#!/bin/bash
# The browser image's root filesystem (docs/browser.md): Debian bookworm from
# the machine's configured Debian mirror (debootstrap), with firefox-esr, a
# display stack (Xvfb, x11vnc), socat (vsock <-> TCP in the guest) and fonts,
# then the files under images/browser/rootfs/ (the session script, the
# homepage) on top. ign-runtime makes the read-only root image from it.
#
# usage: images/browser/build.sh     builds (or finds) it, prints its directory
#   IGN_BROWSER_HOME=URL   the homepage (default: the page shipped in the image)
#   IGN_DEBIAN_MIRROR=URL  the mirror (default: the first one apt is configured with)
# Cached outside the tree, keyed by this script, rootfs/, the homepage and the
# mirror: $IGN_CACHE_DIR/browser/<key>/rootfs (IGN_CACHE_DIR as for the
# kernel). A cache entry appears only by rename of a complete directory.
# Progress goes to stderr; needs root (debootstrap).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cache=${IGN_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/ign-runtime}/browser
home=${IGN_BROWSER_HOME:-file:///usr/share/ign-browser/home.html}
packages=firefox-esr,xvfb,x11vnc,socat,fonts-dejavu-core,python3-xlib,procps

say() { echo "browser image: $*" >&2; }
die() { say "$*"; exit 1; }

mirror=${IGN_DEBIAN_MIRROR:-}
if [ -z "$mirror" ]; then
	mirror=$(grep -hs '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}' | grep -v security | head -n 1)
	[ -n "$mirror" ] || mirror=$(grep -hs '^deb ' /etc/apt/sources.list | awk '{print $2}' | head -n 1)
fi
[ -n "$mirror" ] || die "no Debian mirror configured in /etc/apt: set IGN_DEBIAN_MIRROR"
command -v debootstrap >/dev/null || die "debootstrap is not installed (apt-get install debootstrap)"
[ "$(id -u)" = 0 ] || die "debootstrap needs root: run as root (or with sudo)"

key=$( (echo "$mirror $packages $home"; cat "$here/build.sh"
	cd "$here/rootfs" && find . -type f | LC_ALL=C sort | while read -r f; do echo "$f"; cat "$f"; done) |
	sha256sum | cut -c1-16)
out=$cache/$key
if [ -x "$out/rootfs/usr/bin/firefox-esr" ]; then
	echo "$out/rootfs"
	exit 0
fi

mkdir -p "$cache"
work=$(mktemp -d "$cache/.build-$key.XXXXXX")
trap 'rm -rf "$work"' EXIT
start=$(date +%s)
say "building (key $key) from $mirror; log in $work/build.log"
say "1/4 debootstrap: a minimal bookworm (a minute or two)"
# debootstrap's own progress ("I: Retrieving ...") is shown a line in 25
if ! debootstrap --variant=minbase bookworm "$work/rootfs" "$mirror" 2>&1 | tee "$work/build.log" |
	awk '/^I: / { n++; if (n % 25 == 1) { print "browser image:   " $0; fflush() } }' >&2 ||
	! grep -q "^I: Base system installed successfully" "$work/build.log"; then
	cp "$work/build.log" "$cache/last-failed.log"
	cat "$work/rootfs/debootstrap/debootstrap.log" >>"$cache/last-failed.log" 2>/dev/null || true
	tail -n 20 "$cache/last-failed.log" >&2
	die "debootstrap failed (log: $cache/last-failed.log)"
fi
say "2/4 apt-get install $packages (a few minutes)"
r=$work/rootfs
# no service starts in the chroot; /proc, /sys and /dev for the maintainer scripts
printf '#!/bin/sh\nexit 101\n' >"$r/usr/sbin/policy-rc.d"
chmod 0755 "$r/usr/sbin/policy-rc.d"
mount -t proc proc "$r/proc"
mount -t sysfs sys "$r/sys"
mount --bind /dev "$r/dev"
trap 'umount "$r/dev" "$r/sys" "$r/proc" 2>/dev/null; rm -rf "$work"' EXIT
if ! { chroot "$r" apt-get update -q && DEBIAN_FRONTEND=noninteractive chroot "$r" apt-get install \
	-y -q --no-install-recommends $(echo "$packages" | tr , ' '); } >>"$work/build.log" 2>&1; then
	cp "$work/build.log" "$cache/last-failed.log"
	tail -n 20 "$work/build.log" >&2
	die "apt-get install in the image failed (log: $cache/last-failed.log)"
fi
umount "$r/dev" "$r/sys" "$r/proc"
trap 'rm -rf "$work"' EXIT
rm -f "$r/usr/sbin/policy-rc.d"
say "3/4 the session script and the homepage"
cp -a "$here/rootfs/." "$work/rootfs/"
chmod 0755 "$work/rootfs/usr/local/bin/"*
printf '%s\n' "$home" >"$work/rootfs/usr/share/ign-browser/homepage"
say "4/4 trimming (apt lists and caches, documentation, other locales)"
rm -rf "$work/rootfs/var/cache/apt/"* "$work/rootfs/var/lib/apt/lists/"* \
	"$work/rootfs/usr/share/doc" "$work/rootfs/usr/share/man" "$work/rootfs/usr/share/info"
find "$work/rootfs/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name 'en*' -exec rm -rf {} + 2>/dev/null || true
echo "$(( $(date +%s) - start ))" >"$work/build-time"
rm -rf "$out"  # an incomplete entry (no firefox-esr): replaced whole
mv "$work" "$out"
trap - EXIT
# older builds (other keys) go: each is most of a GiB
find "$cache" -mindepth 1 -maxdepth 1 -type d -name '[0-9a-f]*' ! -name "$key" -exec rm -rf {} +
say "done in $(cat "$out/build-time") s: $(du -sh "$out/rootfs" | cut -f1) in $out/rootfs"
echo "$out/rootfs"
