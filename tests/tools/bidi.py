#!/usr/bin/env python3
"""A WebDriver BiDi client for the browser tests: JSON commands over a plain
WebSocket (wsock.py), no library beyond Python's own.

usage: bidi.py HOST:PORT URL [EXPRESSION ...]
Opens a BiDi session, navigates the first top-level browsing context to URL
(waiting until it is complete), evaluates each JavaScript EXPRESSION in the
page (awaiting a promise), and prints each one's value on a line of its own.
The default expression is document.title."""
import json
import sys

from wsock import WebSocket


class Session:
    def __init__(self, ws):
        self.ws, self.next = ws, 0

    def call(self, method, params):
        self.next += 1
        self.ws.send(json.dumps({"id": self.next, "method": method, "params": params}))
        while True:
            m = json.loads(self.ws.recv())
            if m.get("id") == self.next:
                if m.get("type") == "error":
                    raise SystemExit("bidi: %s: %s: %s" % (method, m.get("error"), m.get("message")))
                return m["result"]


def main():
    if len(sys.argv) < 3 or ":" not in sys.argv[1]:
        raise SystemExit(__doc__)
    host, port = sys.argv[1].rsplit(":", 1)
    s = Session(WebSocket(host, int(port), "/session"))
    s.call("session.new", {"capabilities": {}})
    ctx = s.call("browsingContext.getTree", {})["contexts"][0]["context"]
    s.call("browsingContext.navigate", {"context": ctx, "url": sys.argv[2], "wait": "complete"})
    for expr in sys.argv[3:] or ["document.title"]:
        r = s.call("script.evaluate", {"expression": expr, "target": {"context": ctx},
                                        "awaitPromise": True})
        if r.get("type") == "exception":
            raise SystemExit("bidi: %s threw: %s" % (expr, r["exceptionDetails"].get("text")))
        print(r["result"].get("value", ""), flush=True)
    s.call("session.end", {})


main()
