#!/usr/bin/env python3
# Writes the checked-in seed corpora under tests/fuzz/corpus/<target>/ for
# the targets whose inputs are a layout rather than a real file: well-formed
# guest requests for the device targets, config.json files for fuzz_config,
# frame streams for fuzz_agent. (fuzz_p9's seeds are recorded sessions;
# fuzz_snapshot's come from tests/fuzz/seed_snapshot.c.) Deterministic: run it
# again and git sees no change. usage: tests/fuzz/mkseeds.py
import json
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))

def put(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())

class Ram:
    """Guest RAM as the device targets see it (64 KiB at guest address 0)."""
    def __init__(self):
        self.b = bytearray(0x4000)
    def at(self, off, data):
        if off + len(data) > len(self.b):
            self.b.extend(bytes(off + len(data) - len(self.b)))
        self.b[off:off + len(data)] = data
    def chain(self, desc, bufs):
        """Descriptor chain 0..n-1 at desc from (addr, len, writable)."""
        for i, (addr, ln, w) in enumerate(bufs):
            flags = (1 if i + 1 < len(bufs) else 0) | (2 if w else 0)
            self.at(desc + 16 * i, struct.pack("<QIHH", addr, ln, flags, i + 1 if flags & 1 else 0))
    def avail(self, off, heads):
        self.at(off, struct.pack("<HH", 0, len(heads)) + b"".join(struct.pack("<H", h) for h in heads))

DESC, AVAIL, USED = 0x000, 0x400, 0x800   # rings of a 16-entry queue

# fuzz_virtio: kind (0 read-only blk, 1 blk, 2 rng), log2 queue size, desc/2, avail/2, used/2, kick2
def virtio(name, kind, bufs, data=()):
    r = Ram()
    r.chain(DESC, bufs)
    r.avail(AVAIL, [0])
    for off, b in data:
        r.at(off, b)
    head = struct.pack("<BBHHHH", kind, 4, DESC // 2, AVAIL // 2, USED // 2, 1)
    put("fuzz_virtio", name, head + bytes(r.b))

blkhdr = lambda t, sector: struct.pack("<IIQ", t, 0, sector)
virtio("blk-read", 1, [(0x1000, 16, 0), (0x2000, 512, 1), (0x3000, 1, 1)], [(0x1000, blkhdr(0, 0))])
virtio("blk-write", 1, [(0x1000, 16, 0), (0x2000, 512, 0), (0x3000, 1, 1)],
       [(0x1000, blkhdr(1, 3)), (0x2000, b"\xa5" * 512)])
virtio("blk-write-ro", 0, [(0x1000, 16, 0), (0x2000, 512, 0), (0x3000, 1, 1)],
       [(0x1000, blkhdr(1, 0)), (0x2000, b"\x5a" * 512)])
virtio("blk-flush", 1, [(0x1000, 16, 0), (0x3000, 1, 1)], [(0x1000, blkhdr(4, 0))])
virtio("blk-getid", 1, [(0x1000, 16, 0), (0x2000, 20, 1), (0x3000, 1, 1)], [(0x1000, blkhdr(8, 0))])
virtio("blk-past-end", 1, [(0x1000, 16, 0), (0x2000, 1024, 1), (0x3000, 1, 1)], [(0x1000, blkhdr(0, 15))])
virtio("rng", 2, [(0x2000, 64, 1)])

# fuzz_vsock_net: is_net, log2 queue size, per queue (rx, tx, event) desc/2 avail/2 used/2, kick2
def vsock_net(name, is_net, rx, tx, data=()):
    r = Ram()
    rings = b""
    for q, bufs in enumerate([rx, tx, []]):
        base = 0x1000 * q + 0x4000
        if bufs:
            r.chain(base, bufs)
            r.avail(base + 0x400, [0])
        rings += struct.pack("<HHH", base // 2, (base + 0x400) // 2, (base + 0x800) // 2)
    for off, b in data:
        r.at(off, b)
    put("fuzz_vsock_net", name, struct.pack("<BB", is_net, 4) + rings + struct.pack("<H", 1) + bytes(r.b))

def vhdr(op, ln=0, src=1024, dst=1024):
    return struct.pack("<QQIIIHHIII", 3, 2, src, dst, ln, 1, op, 0, 256 << 10, 0)

vsock_net("vsock-request", 0, [(0x9000, 4096, 1)], [(0x8000, 44, 0)], [(0x8000, vhdr(1))])
vsock_net("vsock-rw", 0, [(0x9000, 4096, 1)], [(0x8000, 44, 0), (0x8100, 5, 0)],
          [(0x8000, vhdr(5, 5)), (0x8100, b"hello")])
vsock_net("vsock-shutdown", 0, [(0x9000, 4096, 1)], [(0x8000, 44, 0)], [(0x8000, vhdr(4))])
vsock_net("vsock-credit", 0, [(0x9000, 4096, 1)], [(0x8000, 44, 0)], [(0x8000, vhdr(7))])
frame = bytes.fromhex("ffffffffffff525400000002") + b"\x08\x06" + bytes(28)
vsock_net("net-tx", 1, [(0x9000, 2048, 1)], [(0x8000, 12 + len(frame), 0)],
          [(0x8000, bytes(12) + frame)])
vsock_net("net-rx", 1, [(0x9000, 2048, 1)], [])

# fuzz_config: config.json files as `ign-runtime spec` and podman write them
base = {
    "ociVersion": "1.0.2",
    "process": {"terminal": False, "user": {"uid": 0, "gid": 0}, "args": ["/bin/sh", "-c", "echo hi"],
                "env": ["PATH=/usr/bin:/bin", "TERM=xterm"], "cwd": "/",
                "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}]},
    "root": {"path": "rootfs", "readonly": True},
    "hostname": "ign",
    "mounts": [{"destination": "/proc", "type": "proc", "source": "proc"},
               {"destination": "/tmp", "type": "tmpfs", "source": "tmpfs",
                "options": ["nosuid", "nodev", "mode=1777", "size=64m"]}],
    "linux": {"namespaces": [{"type": "pid"}, {"type": "network"}, {"type": "mount"}]},
}
put("fuzz_config", "spec", json.dumps(base, indent=1))
full = json.loads(json.dumps(base))
full["process"]["terminal"] = True
full["process"]["consoleSize"] = {"height": 24, "width": 80}
full["mounts"].append({"destination": "/data", "type": "bind", "source": "/srv/data",
                       "options": ["rbind", "ro"]})
full["annotations"] = {"io.ign.vcpus": "2", "io.ign.memory_mib": "512", "org.example": "x"}
full["linux"]["resources"] = {"memory": {"limit": 268435456}, "cpu": {"quota": 150000, "period": 100000}}
full["linux"]["namespaces"][1]["path"] = "/run/netns/ign-test"
full["hooks"] = {h: [{"path": "/usr/bin/true", "args": ["true", h], "env": ["A=1"], "timeout": 5}]
                 for h in ["prestart", "createRuntime", "createContainer", "startContainer",
                           "poststart", "poststop"]}
full["vm"] = {"kernel": {"path": "/boot/vmlinuz", "initrd": "/boot/initrd"}}
put("fuzz_config", "full", json.dumps(full, indent=1))
put("fuzz_config", "minimal", '{"ociVersion":"1.0.0","root":{"path":"r"},"process":{"args":["x"],"cwd":"/"}}')
put("fuzz_config", "bad-path", '{"ociVersion":"1.0.2","root":{"path":"r"},"process":{"args":["a",7]}}')

# fuzz_agent: streams of frames (u32 length, JSON), both directions
def frames(*msgs):
    out = b""
    for m in msgs:
        j = json.dumps(m).encode()
        out += struct.pack("<I", len(j)) + j
    return out

spawn = {"type": "spawn", "id": "main", "main": True,
         "process": base["process"], "hostname": "ign",
         "mounts": base["mounts"] + [{"destination": "/etc/hosts", "type": "ign-file",
                                      "data": "127.0.0.1 localhost\n", "mode": 420}],
         "network": {"address": "10.88.0.4/16", "gateway": "10.88.0.1", "mtu": 1500,
                     "mac": "52:54:00:12:34:56"}}
put("fuzz_agent", "replies", frames({"type": "ok", "version": 1}, {"type": "exit", "id": "main", "status": 3},
                                    {"type": "error", "message": "no such process"}))
put("fuzz_agent", "exits", frames(*[{"type": "exit", "id": "exec-%d" % i, "status": i} for i in range(5)]))
put("fuzz_agent", "spawn", frames({"type": "hello", "version": 1}, spawn,
                                  {"type": "kill", "id": "main", "signal": 15, "all": False},
                                  {"type": "resize", "id": "main", "height": 40, "width": 120}))
put("fuzz_agent", "spawn-exec", frames({"type": "spawn", "id": "exec1",
                                        "process": dict(base["process"], terminal=True,
                                                        consoleSize={"height": 24, "width": 80})}))
put("fuzz_agent", "truncated", frames({"type": "ok"})[:-3])

# fuzz_snapshot: made by the real save code (seed_snapshot.c)
top = os.path.dirname(os.path.dirname(HERE))
out = os.path.join(HERE, "corpus", "fuzz_snapshot")
os.makedirs(out, exist_ok=True)
import subprocess, tempfile
with tempfile.TemporaryDirectory() as tmp:
    exe = os.path.join(tmp, "seed_snapshot")
    v = os.path.join(top, "vmm")
    lib = os.path.join(top, "runtime", "lib")
    subprocess.run(["gcc", "-std=gnu11", "-D_GNU_SOURCE", "-I" + v, "-I" + os.path.join(v, "include"),
                    "-I" + lib, os.path.join(HERE, "seed_snapshot.c"), os.path.join(v, "mem.c"),
                    os.path.join(v, "snapshot", "snapfile.c"), os.path.join(v, "virtio", "queue.c"),
                    os.path.join(v, "virtio", "mmio.c"), os.path.join(v, "virtio", "blk.c"),
                    os.path.join(lib, "ign", "err.c"), os.path.join(lib, "ign", "fdio.c"),
                    os.path.join(lib, "ign", "log.c"), os.path.join(lib, "ign", "json.c"),
                    "-lyajl", "-lz", "-lpthread", "-o", exe], check=True)
    subprocess.run([exe, out], check=True)
