# The browser (docs/browser.md): bundles/browser run by ign-runtime on the
# image images/browser/build.sh made (tests/vm/run.sh builds it and its root
# image before the run). Firefox under nested emulation is slow: the first
# create paints the homepage and saves the warm base (minutes); the sessions
# after it are clones. Every wait is bounded. Sourced after lib.sh.
. "$D/browser-lib.sh"
# why ID: for a failed case's report, the container's status and its guest's last console lines
why() {
	echo "$1: $(brt state "$1" 2>/dev/null | json_field status 2>/dev/null || echo gone) pid $(brt state "$1" 2>/dev/null | json_field pid 2>/dev/null)"
	tail -n 40 "$BROOT/$1/console.log" 2>/dev/null | sed "s/^/$1 console: /"
	tail -n 10 "$BROOT/$1/shim.log" 2>/dev/null | sed "s/^/$1 shim: /"
}
# serve ID: an http origin in the guest (python3's http.server on 127.0.0.1:8000, the
# homepage's directory), for what Firefox keeps only for http origins (cookies)
serve() {
	brt exec --detach "$1" python3 -m http.server --bind 127.0.0.1 --directory /usr/share/ign-browser 8000 \
		</dev/null >/dev/null 2>&1 || return 1
	i=0; until brt exec "$1" python3 -c 'import urllib.request as u; u.urlopen("http://127.0.0.1:8000/")' \
		>/dev/null 2>&1; do [ $((i += 1)) -lt 30 ] || return 1; sleep 1; done
}
HTTP_HOME=http://127.0.0.1:8000/home.html
DOWNLOADS=/tmp/ign-browser/Downloads
# revive WHEN: a clone has stopped now and then under nested emulation, with nothing
# on its console: a guest triple fault (KVM_EXIT_SHUTDOWN, in the shim's log; once at
# its first BiDi session, once after the key chord's reset): if br2 has stopped,
# report it whole, make a new clone (once a case) and say yes, so the step is tried again
revived=
revive() {
	brt state br2 2>/dev/null | grep -q '"stopped"' && [ -z "$revived" ] || return 1
	revived=1
	echo "IGN_FIGURE browser: the clone had stopped by $1; a new clone, once"
	why br2 | sed 's/^/# /'
	brt delete --force br2
	brt create --bundle "$T/brb" br2 </dev/null >>"$T/br2.out" 2>&1 && brt start br2 && marker br2 ||
		{ bad="$bad the new clone failed;"; return 1; }
}
shim_gone() {  # shim_gone PID: within 10 s
	i=0; while runs "$1" && [ $i -lt 50 ]; do sleep 0.2; i=$((i + 1)); done
	! runs "$1"
}

case_begin browser_first
t0=$(now_ms)
brt create --bundle "$T/brb" br1 </dev/null >"$T/br1.out" 2>&1 || bad="$bad create failed: $(cat "$T/br1.out");"
t1=$(now_ms)
brt start br1 || bad="$bad start failed;"
brt bases | grep -q -- '-app-' || bad="$bad no warm base for the browser after its first create;"
marker br1 || bad="$bad the first session's screen: $(tr '\n' ' ' <"$T/br1.vnc");"
grep -q '^screen 1280x800' "$T/br1.vnc" || bad="$bad VNC screen: $(head -n 1 "$T/br1.vnc");"
grep -q '^600,500 255 255 255$' "$T/br1.vnc" || bad="$bad the page below the band is not white;"
cold=$((t1 - t0))
echo "IGN_FIGURE browser first run (nested): create $cold ms: the profile's base, Firefox cold to the painted homepage, the browser's warm base saved"
echo "IGN_FIGURE browser guest memory in use, painted homepage: $(in_use br1) MiB of $(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["annotations"]["io.ign.memory_mib"])' "$T/brb/config.json") MiB"
[ -n "$bad" ] && why br1 | sed 's/^/# /'  # into the test's log whole
check browser_first "the first browser session: its create paints the shipped homepage in Firefox and saves that as the browser's warm base; a VNC client on the published port sees the homepage's marker band" br1

case_begin browser_clone
t0=$(now_ms)
brt create --bundle "$T/brb" br2 </dev/null >"$T/br2.out" 2>&1 || bad="$bad create failed: $(cat "$T/br2.out");"
brt start br2 || bad="$bad start failed;"
t1=$(now_ms)
marker br2 || bad="$bad the clone's screen: $(tr '\n' ' ' <"$T/br2.vnc");"
t2=$(now_ms)
[ "$(brt bases | grep -c -- '-app-')" = 1 ] || bad="$bad the clone built another base;"
# the web viewer make browser serves: Debian's noVNC page, and the homepage through its WebSocket
"$top/bundles/browser/viewer.sh" "$(port_of br2 5900)" >"$T/br2.viewer" 2>&1 &
viewer=$!
url=; i=0; until [ -n "$url" ] && accepts "$web"; do
	[ $((i += 1)) -lt 50 ] || { bad="$bad no viewer: $(cat "$T/br2.viewer");"; break; }
	sleep 0.2; url=$(grep -m1 '^http://' "$T/br2.viewer"); web=${url#http://}; web=${web%%/*}
done
python3 -c 'import sys, urllib.request as u; sys.exit(b"noVNC" not in u.urlopen(sys.argv[1], timeout=30).read())' "$url" ||
	bad="$bad the viewer's page at $url is not noVNC's;"
home_on "ws://$web/websockify" "$T/br2.web" || bad="$bad through the viewer: $(tr '\n' ' ' <"$T/br2.web");"
kill "$viewer" 2>/dev/null
echo "IGN_FIGURE browser warm clone (nested): create+start $((t1 - t0)) ms, to a VNC frame of the homepage $((t2 - t0)) ms; the first run's create took $cold ms"
# WebDriver BiDi in the clone: a second local page, and its title
second() { python3 "$tools/bidi.py" "$(port_of br2 9222)" 'data:text/html,<title>second page</title><body style="background:%2300ff00">' >"$T/br2.bidi" 2>&1; }
if ! second && revive "its first BiDi session ($(tail -n 1 "$T/br2.bidi"))"; then
	second
fi
grep -qx "second page" "$T/br2.bidi" || bad="$bad BiDi read the title '$(cat "$T/br2.bidi")';"
echo "IGN_FIGURE browser guest memory in use, a second page opened by BiDi: $(in_use br2) MiB"
# two sessions at once, apart: br2 shows the green page, br1 still the homepage
python3 "$tools/vncpeek.py" "$(port_of br2 5900)" 600,500 >"$T/br2.vnc" 2>&1
grep -q '^600,500 0 255 0$' "$T/br2.vnc" || bad="$bad the clone does not show the page BiDi opened: $(tr '\n' ' ' <"$T/br2.vnc");"
marker br1 || bad="$bad the other session changed too;"
[ "$(port_of br1 5900)" != "$(port_of br2 5900)" ] || bad="$bad two sessions share a port;"
# a cookie and a downloaded file, which the reset must take away
serve br2 || bad="$bad no http server in the guest;"
python3 "$tools/bidi.py" "$(port_of br2 9222)" "$HTTP_HOME" \
	'document.cookie = "ign=kept; max-age=86400"; document.cookie' \
	'(() => { const a = document.createElement("a"); a.download = "ign.txt";
		a.href = URL.createObjectURL(new Blob(["ign-download"])); document.body.append(a); a.click();
		return "downloading"; })()' >"$T/br2.keep" 2>&1
[ "$(cat "$T/br2.keep")" = "$(printf 'ign=kept\ndownloading')" ] || bad="$bad the cookie and download: $(tr '\n' ' ' <"$T/br2.keep");"
i=0; until [ "$(brt exec br2 cat "$DOWNLOADS/ign.txt" 2>/dev/null)" = ign-download ]; do
	[ $((i += 1)) -lt 30 ] || { bad="$bad no downloaded file in $DOWNLOADS: $(brt exec br2 ls -A "$DOWNLOADS" 2>&1);"; break; }
	sleep 1
done
# reset: back to the warm homepage
t0=$(now_ms)
brt reset br2 || bad="$bad reset failed;"
marker br2 || bad="$bad after the reset the clone's screen: $(tr '\n' ' ' <"$T/br2.vnc");"
echo "IGN_FIGURE browser reset to the warm homepage (nested): $(($(now_ms) - t0)) ms to a VNC frame of it"
serve br2 || bad="$bad no http server in the guest after the reset;"
python3 "$tools/bidi.py" "$(port_of br2 9222)" "$HTTP_HOME" 'document.cookie' >"$T/br2.after" 2>&1
[ "$(cat "$T/br2.after")" = "" ] || bad="$bad after the reset the origin's cookies are '$(cat "$T/br2.after")';"
left=$(brt exec br2 ls -A "$DOWNLOADS" 2>&1)
[ -z "$left" ] || bad="$bad after the reset $DOWNLOADS holds: $left;"
# the key chord: Ctrl+Alt+Home typed through VNC has the guest ask the shim for a reset
# (io.ign.reset-port); the green page goes, the homepage comes back
chord() {
	python3 "$tools/bidi.py" "$(port_of br2 9222)" 'data:text/html,<title>away</title><body style="background:%2300ff00">' >/dev/null 2>&1
	t0=$(now_ms)
	python3 "$tools/vncpeek.py" "$(port_of br2 5900)" --keys Control+Alt+Home 600,500 >"$T/br2.keys" 2>&1
	grep -q '^600,500 0 255 0$' "$T/br2.keys" || { echo "before the key chord: $(tr '\n' ' ' <"$T/br2.keys")"; return 1; }
	until marker br2; do
		[ $(($(now_ms) - t0)) -lt 120000 ] || { echo "120 s after Ctrl+Alt+Home the screen: $(tr '\n' ' ' <"$T/br2.vnc")"; return 1; }
		sleep 1
	done
	echo "IGN_FIGURE browser reset by the key chord (nested): $(($(now_ms) - t0)) ms from the keys to a VNC frame of the homepage"
}
chord >"$T/br2.chord" || { revive "the key chord's reset" && chord >"$T/br2.chord"; } || bad="$bad $(cat "$T/br2.chord");"
grep IGN_FIGURE "$T/br2.chord"
[ -n "$bad" ] && { why br1; why br2; } | sed 's/^/# /'  # into the test's log whole
# closing the sessions leaves nothing: no state, no listener, no shim
for c in br2 br1; do
	vnc=$(port_of $c 5900)
	pid=$(brt state $c | json_field pid)
	brt delete --force $c || bad="$bad delete $c failed;"
	[ -e "$BROOT/$c" ] && bad="$bad $c's state left after delete;"
	if [ "$pid" -gt 0 ] && ! shim_gone "$pid"; then
		bad="$bad $c's shim $pid outlived its delete (which waits for it) by 10 s;"
		# where it is stuck, for the report: state, and each thread's kernel wait
		{ grep '^State' "/proc/$pid/status"; for t in /proc/$pid/task/*; do
			echo "$(cat "$t/comm") $(cat "$t/wchan"; echo)"; done; } >>"$T/br2.out" 2>&1
	fi
	accepts "$vnc" && bad="$bad $c's VNC port still accepts after delete;"
done
check browser_clone "a second browser session is a clone of the warm base: its first VNC frame is the homepage, seen also through the noVNC viewer page; WebDriver BiDi opens a second local page and reads its title, which the other session does not see; a cookie and a downloaded file are gone after reset, which brings the homepage back, as the key chord Ctrl+Alt+Home typed through VNC does; delete leaves no state, shim or listener" br2

# make browser's own script, bundles/browser/run.sh, on this suite's state root and
# caches (its tree copied: it links the bundle's rootfs and image): `ign-runtime run browser` in
# the foreground restores the warm base the first session saved, prints where to
# connect, and Ctrl-C (SIGINT to its process group) ends the session and the viewer
case_begin browser_make
rm -rf "$T/tree"; mkdir -p "$T/tree/bundles" "$T/tree/images"
cp -r "$top/bundles/browser" "$T/tree/bundles/"; rm -f "$T/tree/bundles/browser/rootfs" "$T/tree/bundles/browser/rootfs.erofs"
cp -r "$top/images/browser" "$T/tree/images/"
brfs=$(hostpath "$(cat "$D/browser-rootfs")")
t0=$(now_ms)
IGN_ROOT=$BROOT IGN_CACHE=$BCACHE IGN_CACHE_DIR=${brfs%/browser/*} \
	setsid "$T/tree/bundles/browser/run.sh" "$D/prefix" "$D/prefix/share/ign-runtime" </dev/null >"$T/make.out" 2>&1 &
mk=$!
url=; until [ -n "$url" ]; do
	[ $(($(now_ms) - t0)) -lt 300000 ] && runs "$mk" || { bad="$bad no viewer address from run.sh: $(tail -n 5 "$T/make.out");"; break; }
	sleep 1; url=$(sed -n 's/^browser: in a web browser: //p' "$T/make.out")
done
web=${url#http://}; web=${web%%/*}
grep -q '^browser: VNC on 127\.0\.0\.1:[0-9]* .*WebDriver BiDi on ws://127\.0\.0\.1:[0-9]*/session$' "$T/make.out" ||
	bad="$bad run.sh's ports line: $(head -n 3 "$T/make.out");"
i=0; until home_on "ws://$web/websockify" "$T/make.vnc"; do
	[ $((i += 1)) -lt 10 ] || { bad="$bad run.sh's viewer page shows: $(tr '\n' ' ' <"$T/make.vnc");"; break; }
	sleep 2
done
echo "IGN_FIGURE browser make browser (nested, warm base there): $(($(now_ms) - t0)) ms from run.sh to the homepage in its noVNC page"
vnc=$(port_of browser 5900)
kill -s INT -- "-$mk"
i=0; while runs "$mk" && [ $i -lt 300 ]; do sleep 0.2; i=$((i + 1)); done
runs "$mk" && { bad="$bad run.sh still runs 60 s after Ctrl-C;"; kill -s KILL -- "-$mk"; }
wait "$mk"; echo "run.sh: status $?" >>"$T/make.out"
brt state browser >/dev/null 2>&1 && { bad="$bad the session outlived run.sh;"; brt delete --force browser; }
[ -n "$web" ] && accepts "$web" && bad="$bad the viewer outlived run.sh;"
[ -n "$vnc" ] && accepts "$vnc" && bad="$bad the session's VNC port still accepts;"
check browser_make "make browser's run.sh: ign-runtime run browser restores the warm base, prints the VNC, BiDi and noVNC addresses, the noVNC page shows the homepage; Ctrl-C ends the session, its ports and the viewer" make
