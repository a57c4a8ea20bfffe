"""Thread pools for the CPU-bound work that releases the GIL: argon2id hashes
(crypto/passwords.py) and RSA signatures (tokens/signing.py).

One thread per usable core, each below the event loop's priority. Pure CPU gains nothing
from more threads than cores: they only share the cores, so every job in a burst
finishes late. And such a thread must not take the core from the event loop: the loop
holds the GIL while it runs, so when the scheduler preempts it for a thread in C, every
other thread that needs the GIL waits too, the pool's own included (a finished job must
take the GIL to hand its result back).

With `gatepass serve --workers N`, each worker process has its own pools, so a host
with C cores can run N x C argon2id hashes at once, not C. That is on purpose: the
kernel hands connections to the workers unevenly (docs/benchmarks.md saw splits far
from half), and a worker given 1/N of the cores would leave cores idle while its own
logins queue. Oversubscribed, the hashes share the cores (these threads are niced, so
the event loops keep theirs): throughput stays what the cores can hash, a login in a
storm takes longer, and memory peaks at N x C x the argon2id memory cost (19 MiB by
default: 76 MiB for 2 workers on 2 cores).
"""

import contextlib
import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity where the OS tells)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0)) or 1
    return os.cpu_count() or 1


def pool(name: str, niceness: int) -> ThreadPoolExecutor:
    """A pool of `usable_cores()` threads named `name`, each `niceness` below the process."""
    return ThreadPoolExecutor(
        max_workers=usable_cores(),
        thread_name_prefix=name,
        initializer=_lower_priority,
        initargs=(niceness,),
    )


def _lower_priority(niceness: int) -> None:
    """Runs in each thread as it starts: on Linux a thread is a task of its own, so its nice
    value is its own (elsewhere setpriority would lower the whole process, so the threads
    keep the process's). Raising a nice value needs no privilege."""
    if sys.platform != "linux":
        return
    tid = threading.get_native_id()
    current = os.getpriority(os.PRIO_PROCESS, tid)
    # A sandbox that forbids it (OSError): the thread runs at the usual priority.
    with contextlib.suppress(OSError):
        os.setpriority(os.PRIO_PROCESS, tid, min(current + niceness, 19))
