#!/bin/bash
# The browser's web viewer: Debian's noVNC page, served by websockify on a
# free port of 127.0.0.1, which also carries the page's WebSocket to a VNC
# server (a session's published VNC port). Prints the page's address on
# stdout (after PREFIX), then serves until killed. Used by run.sh (make
# browser) and the browser tests.
# usage: bundles/browser/viewer.sh VNC_HOST:PORT [PREFIX]
set -euo pipefail
vnc=${1:?usage: viewer.sh VNC_HOST:PORT [PREFIX]}
web=/usr/share/novnc
if ! command -v websockify >/dev/null || ! [ -e "$web/vnc.html" ]; then
	echo "viewer: no noVNC: apt-get install novnc websockify (make deps does)" >&2
	exit 1
fi
# a free port: the kernel picks one, websockify takes it (a race only
# another program binding that very port at once would lose)
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
echo "${2:-}http://127.0.0.1:$port/vnc.html?host=127.0.0.1&port=$port&autoconnect=true&resize=scale"
exec websockify --web "$web" "127.0.0.1:$port" "$vnc" >/dev/null 2>&1
