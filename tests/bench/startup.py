#!/usr/bin/env python3
"""startup.py: time from starting an initiator to its "Proxy started." line.

Usage: startup.py RUNS TIMEOUT_S CMD [ARGS...]

Runs CMD (a connectd initiator that writes its start-up lines to stdout) RUNS
times, one after the other. Each time it notes the monotonic clock just before
the fork, reads the child's stdout until the line "Proxy started." arrives,
notes the clock again, then ends the child with SIGTERM (SIGKILL after 5 s)
and waits for it. Prints one line per run and a summary:

    run N ms M
    startup runs=N median_ms=M min_ms=A max_ms=B

Exit status 0, or 1 (with the child's last output) if a run did not reach
"Proxy started." within TIMEOUT_S seconds or the child exited first.
"""
import os
import select
import signal
import statistics
import subprocess
import sys
import time

READY = b"Proxy started."


def stop(p):
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(5)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def one_run(cmd, timeout):
    """Milliseconds until READY, or None; the child is stopped either way."""
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL)
    buf = b""
    got = None
    try:
        deadline = t0 + timeout
        while got is None:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            r, _, _ = select.select([p.stdout], [], [], left)
            if not r:
                break
            chunk = os.read(p.stdout.fileno(), 4096)
            now = time.monotonic()
            if not chunk:
                break
            buf += chunk
            for line in buf.split(b"\n")[:-1]:
                if line.strip() == READY:
                    got = (now - t0) * 1000.0
                    break
    finally:
        stop(p)
        p.stdout.close()
    if got is None:
        tail = b"\n".join(buf.split(b"\n")[-10:]).decode(errors="replace")
        print("startup: no 'Proxy started.' within %s s (exit status %s); its output:\n%s"
              % (timeout, p.returncode, tail), file=sys.stderr)
    return got


def main():
    if len(sys.argv) < 4:
        sys.exit("usage: startup.py RUNS TIMEOUT_S CMD [ARGS...]")
    try:
        runs = int(sys.argv[1])
        timeout = float(sys.argv[2])
    except ValueError:
        sys.exit("startup.py: RUNS must be a whole number and TIMEOUT_S a number of seconds")
    if runs < 1 or timeout <= 0:
        sys.exit("startup.py: RUNS must be at least 1 and TIMEOUT_S above 0")
    cmd = sys.argv[3:]
    times = []
    for i in range(runs):
        ms = one_run(cmd, timeout)
        if ms is None:
            sys.exit(1)
        print("run %d ms %.1f" % (i + 1, ms), flush=True)
        times.append(ms)
    print("startup runs=%d median_ms=%.1f min_ms=%.1f max_ms=%.1f"
          % (runs, statistics.median(times), min(times), max(times)), flush=True)


if __name__ == "__main__":
    main()
