#!/usr/bin/env python3
# rawpeer.py - a TCP peer that misbehaves after the client's first bytes,
# whatever the protocol, for the fault tests of the database checks.
# `rawpeer.py PORT MODE` listens on 127.0.0.1:PORT, prints "ready", and
# serves each connection on a thread of its own until killed:
#   garbage  64 bytes of no protocol, then waits for the peer to close
#   trickle  one byte of garbage every 100 ms, forever
#   reset    closes with a TCP RST
#   close    closes cleanly (FIN) without a word
import socket, struct, sys, threading, time

port, mode = int(sys.argv[1]), sys.argv[2]
JUNK = bytes(range(0x80, 0xc0))


def serve(c):
    try:
        c.recv(4096)
        if mode == "garbage":
            c.sendall(JUNK)
            while c.recv(4096):
                pass
        elif mode == "trickle":
            while True:
                c.send(b"\x99")
                time.sleep(0.1)
        elif mode == "reset":
            c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                         struct.pack("ii", 1, 0))
    except OSError:
        pass
    finally:
        c.close()


s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port))
s.listen(64)
print("ready", flush=True)
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
