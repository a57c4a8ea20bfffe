"""`gatepass bench`: sessions vs tokens, measured on this machine and configuration.

The suite (gatepass.benchmarks) is imported only when the command runs: it pulls in
uvicorn, httpx, PyJWT and matplotlib, which no other command needs.
"""

import argparse
import logging
import sys
import time
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from gatepass.cli.base import Failure
from gatepass.config import Settings

NEEDS = ("jwt",)  # PyJWT: the token-verify baseline (`pip install 'gatepass[bench]'`)


async def bench(args: argparse.Namespace, settings: Settings) -> int:
    missing = [name for name in NEEDS if find_spec(name) is None]
    if missing:
        raise Failure("bench needs PyJWT for its baselines: pip install 'gatepass[bench]'")
    from gatepass.benchmarks import output, suite, summary
    from gatepass.benchmarks.environment import BenchError
    from gatepass.benchmarks.progress import ProgressBar

    # The verifiers under test log their feed's start and stop: expected here, and noise
    # among the progress lines.
    logging.getLogger("gatepass.resource").setLevel(logging.ERROR)
    mode = suite.MODES["smoke" if args.smoke else "full" if args.full else "quick"]
    progress = ProgressBar(suite.steps(mode, _planned(settings)), enabled=not args.quiet)
    began = time.monotonic()
    try:
        raw = await suite.run(mode, settings, progress)
        raw["machine"]["seconds"] = round(time.monotonic() - began, 1)
    except BenchError as exc:
        raise Failure(str(exc)) from None
    finally:
        progress.finish()
    results = summary.results(raw)
    written = [] if args.out is None else output.write_report(args.out, raw, results)
    if args.json:
        print(output.to_json(raw, results))
    else:
        print(output.text(raw, results))
    for path in written:
        print(f"wrote {path}", file=sys.stderr)
    return 0


def _planned(settings: Settings) -> Any:
    """What `steps` needs to size the bar before the services exist: the backends."""
    from gatepass.benchmarks.environment import Targets, argon2_parameters

    postgres = settings.database_url.split(":", 1)[0].startswith("postgres")
    return Targets(
        Path(), "planned" if postgres else None, settings.redis_url, "", argon2_parameters(settings)
    )


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    p = commands.add_parser(
        "bench",
        parents=[common],
        help="measure sessions vs tokens on the configured backends (docs/benchmarks.md)",
    )
    size = p.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="under a minute (the default)")
    size.add_argument("--full", action="store_true", help="the whole suite, long cases")
    size.add_argument("--smoke", action="store_true", help=argparse.SUPPRESS)  # the tests'
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    p.add_argument(
        "--out", type=Path, metavar="DIR", help="write report.md and PNG charts into DIR"
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar on stderr")
    p.set_defaults(run=bench)
