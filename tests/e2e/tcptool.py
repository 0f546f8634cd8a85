#!/usr/bin/env python3
"""TCP helpers for the end-to-end scenarios (servers behind the target,
clients in front of the initiator).

  tcptool.py echo PORT                 echo server (each connection: echo until EOF, then close)
  tcptool.py answer PORT SIZE          read until EOF, then send the sha256 of what came
                                       and SIZE bytes of a pattern derived from it, then close
  tcptool.py concurrent PORT N SIZE    N connections at once, each sending SIZE bytes of its
                                       own data to an echo server and checking the echo
  tcptool.py halfclose PORT SIZE ANSWER
                                       send SIZE bytes, shutdown(SHUT_WR), expect the full
                                       answer of an `answer PORT ANSWER` server
  tcptool.py closed PORT SECONDS       connect and expect the peer to close (EOF or reset)
                                       within SECONDS
Exit status 0 when every check passed; a message on stderr otherwise.
"""
import hashlib
import os
import socket
import sys
import threading
import time


def pattern(seed, size):
    out = bytearray()
    block = seed
    while len(out) < size:
        block = hashlib.sha256(block).digest()
        out += block
    return bytes(out[:size])


def serve(port, handler):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port))
    s.listen(512)
    while True:
        c, _ = s.accept()
        threading.Thread(target=handler, args=(c,), daemon=True).start()


def echo_handler(c):
    try:
        while True:
            d = c.recv(65536)
            if not d:
                break
            c.sendall(d)
        c.shutdown(socket.SHUT_WR)
    except OSError:
        pass
    finally:
        c.close()


def answer_handler_for(size):
    def h(c):
        try:
            sha = hashlib.sha256()
            while True:
                d = c.recv(65536)
                if not d:
                    break
                sha.update(d)
            digest = sha.digest()
            c.sendall(sha.hexdigest().encode() + b"\n")
            c.sendall(pattern(digest, size))
            c.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        finally:
            c.close()
    return h


def recv_all(s):
    chunks = []
    while True:
        d = s.recv(65536)
        if not d:
            return b"".join(chunks)
        chunks.append(d)


def concurrent(port, n, size):
    errors = []
    socks = []
    for i in range(n):
        s = socket.create_connection(("127.0.0.1", port), timeout=60)
        socks.append(s)

    def one(i, s):
        try:
            data = pattern(b"conn%d-%s" % (i, os.urandom(8)), size)
            t = threading.Thread(target=s.sendall, args=(data,))
            t.start()
            got = bytearray()
            while len(got) < size:
                d = s.recv(65536)
                if not d:
                    break
                got += d
            t.join()
            if bytes(got) != data:
                errors.append("connection %d: %d of %d bytes, content %s" %
                              (i, len(got), size, "differs" if len(got) == size else "short"))
            s.close()
        except OSError as e:
            errors.append("connection %d: %s" % (i, e))

    threads = [threading.Thread(target=one, args=(i, s)) for i, s in enumerate(socks)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        for e in errors[:10]:
            print(e, file=sys.stderr)
        print("%d of %d connections failed" % (len(errors), n), file=sys.stderr)
        return 1
    print("%d connections x %d bytes: all intact" % (n, size))
    return 0


def halfclose(port, size, answer):
    data = os.urandom(size)
    s = socket.create_connection(("127.0.0.1", port), timeout=60)
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)
    got = recv_all(s)
    s.close()
    digest = hashlib.sha256(data)
    want = digest.hexdigest().encode() + b"\n" + pattern(digest.digest(), answer)
    if got != want:
        print("half-close: got %d bytes, want %d (%s)" %
              (len(got), len(want), "content differs" if len(got) == len(want)
               else "length differs"), file=sys.stderr)
        return 1
    print("half-close: sent %d bytes, shut down writing, received the full %d-byte answer" %
          (size, len(want)))
    return 0


def closed(port, secs):
    start = time.monotonic()
    s = socket.create_connection(("127.0.0.1", port), timeout=secs)
    try:
        s.sendall(b"hello?\n")
        d = s.recv(100)
        if d:
            print("unexpected data: %r" % d, file=sys.stderr)
            return 1
    except (ConnectionResetError, BrokenPipeError):
        pass
    except socket.timeout:
        print("still open after %s s" % secs, file=sys.stderr)
        return 1
    print("closed after %.3f s" % (time.monotonic() - start))
    return 0


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    cmd, port = argv[1], int(argv[2])
    if cmd == "echo":
        serve(port, echo_handler)
    elif cmd == "answer":
        serve(port, answer_handler_for(int(argv[3])))
    elif cmd == "concurrent":
        return concurrent(port, int(argv[3]), int(argv[4]))
    elif cmd == "halfclose":
        return halfclose(port, int(argv[3]), int(argv[4]))
    elif cmd == "closed":
        return closed(port, float(argv[3]))
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
