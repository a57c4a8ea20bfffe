"""The `gatepass` command: serve, migrate; administer users, sessions, OAuth clients, audit log.

A synchronous edge over the async cores: each command runs one event loop.
Errors print one line (`gatepass: SETTING: reason`) and exit 2; never a traceback.
"""

import argparse
import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path

from gatepass.cli import bench, clients, keys, providers, server, sessions, users
from gatepass.cli.base import Command
from gatepass.cli.clients import client_secret_key
from gatepass.cli.server import serve
from gatepass.config import load_settings
from gatepass.errors import GatepassError, ValidationError

__all__ = ["client_secret_key", "main"]


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(_glue_ids(sys.argv[1:] if argv is None else argv))
    if not hasattr(args, "run"):
        parser.print_help()
        return 2
    try:
        settings = load_settings(args.config)
        if args.run is serve:
            return int(serve(args, settings))
        run: Command = args.run
        return asyncio.run(run(args, settings))
    except (GatepassError, ValidationError) as exc:
        print(f"gatepass: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _glue_ids(argv: Sequence[str]) -> list[str]:
    """`--id VALUE` as `--id=VALUE`: session IDs are base64url and may begin with "-",
    which argparse would otherwise take for an unknown option."""
    glued: list[str] = []
    rest = iter(argv)
    for arg in rest:
        value = next(rest, None) if arg == "--id" else None
        glued.append(arg if value is None else f"{arg}={value}")
    return glued


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gatepass", description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, help="TOML file with settings")
    # Also accepted after the subcommand (`gatepass migrate --config f.toml`).
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", type=Path, default=argparse.SUPPRESS, help="TOML file")
    commands = parser.add_subparsers(title="commands")

    for module in (server, users, sessions, clients, keys, providers, bench):
        module.register(commands, common)
    return parser


if __name__ == "__main__":
    sys.exit(main())
