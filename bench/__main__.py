"""`python -m bench` (and ./scripts/bench): `gatepass bench` on the development services.

The benchmark code lives in the package (src/gatepass/benchmarks, `gatepass bench`). This
wrapper keeps the repository's entry point: it points the command at the local
PostgreSQL and Redis (GATEPASS_BENCH_POSTGRES_URL, GATEPASS_BENCH_REDIS_URL, or the
defaults below) unless GATEPASS_DATABASE_URL / GATEPASS_REDIS_URL say otherwise, and runs
the full suite unless --quick is given. The run works in a database and a Redis key
prefix of its own, both removed at the end.
"""

import os
import sys

from gatepass.cli import main

DEFAULTS = {
    "GATEPASS_DATABASE_URL": os.environ.get(
        "GATEPASS_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
    ),
    "GATEPASS_REDIS_URL": os.environ.get("GATEPASS_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0"),
}


def run(argv: list[str]) -> int:
    for name, value in DEFAULTS.items():
        os.environ.setdefault(name, value)
    size = [] if {"--quick", "--full", "--smoke"} & set(argv) else ["--full"]
    return main(["bench", *size, *argv])


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
