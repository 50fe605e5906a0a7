#!/usr/bin/env python3
"""Slow-header clients for tests/serve.sh: N connections from SOURCE to
127.0.0.1:PORT, each sending a request line and then one header byte every
0.2 s, for at most SECONDS. Prints one line per client: "closed T" (the
server closed it after T seconds) or "held" (still open at the end)."""
import select
import socket
import sys
import threading
import time

port, n, seconds, source = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
results = [None] * n
started = threading.Barrier(n)


def client(i):
    t0 = time.monotonic()
    try:
        s = socket.socket()
        s.bind((source, 0))
        started.wait()
        s.connect(("127.0.0.1", port))
        s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        while time.monotonic() - t0 < seconds:
            readable, _, _ = select.select([s], [], [], 0.2)
            if readable and not s.recv(4096):
                break
            s.send(b"a")
        else:
            results[i] = "held"
            return
    except OSError:
        pass
    results[i] = "closed %.1f" % (time.monotonic() - t0)


threads = [threading.Thread(target=client, args=(i,)) for i in range(n)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print("\n".join(results))
