"""Target for --subprocesses: a parent that forks two worker processes burning CPU (like a
gunicorn master and its workers), each printing its PID, then waits for them."""

import os
import sys
import time

DURATION = float(sys.argv[1]) if len(sys.argv) > 1 else 3.0


def work(stop: float) -> None:
    x = 0
    while time.monotonic() < stop:
        for i in range(2000):
            x += i * i


stop_at = time.monotonic() + DURATION
children = []
for _ in range(2):
    pid = os.fork()
    if pid == 0:
        work(stop_at)
        os._exit(0)
    children.append(pid)
print(" ".join(str(c) for c in children), flush=True)
for c in children:
    os.waitpid(c, 0)
