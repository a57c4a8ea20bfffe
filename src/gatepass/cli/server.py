"""`gatepass serve` and `gatepass migrate`."""

import argparse
import asyncio
import logging
import os
import tempfile
from typing import Any

from gatepass.config import Settings
from gatepass.crypto.master_key import load_master_key
from gatepass.storage.backends import open_backends
from gatepass.storage.sql.engine import check_connection, create_engine
from gatepass.storage.sql.migrate import upgrade

GRACEFUL_SHUTDOWN_SECONDS = 10
MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"  # read by prometheus_client in each worker


def serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from gatepass.cli.http_protocol import OneSendPerResponse

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    asyncio.run(_prepare_database(settings, migrate=not args.no_migrate))
    load_master_key(settings)  # read, or create and announce, once here rather than per worker
    if not settings.is_https:
        logging.getLogger("gatepass").warning(
            "issuer %s is plain http: cookies are sent without Secure and without the "
            "__Host- prefix. Use an https issuer for anything but local development.",
            settings.issuer,
        )
    if args.workers > 1:
        _share_metrics_between_workers()
    if args.config is not None:  # worker processes read settings from the environment
        os.environ["GATEPASS_CONFIG_FILE"] = str(args.config.resolve())
    uvicorn.run(
        "gatepass.web.app:app_from_environment",
        factory=True,
        http=OneSendPerResponse,  # a response's head and body in one send (http_protocol.py)
        host=args.host,
        port=args.port,
        workers=args.workers,
        # Forwarded headers are believed only from GATEPASS_TRUSTED_PROXIES (web/client.py).
        proxy_headers=False,
        server_header=False,
        log_level="info",
        # A line per request costs as much as answering /jwks.json; metrics count requests
        # (/metrics), and a reverse proxy usually logs them anyway. --access-log for one.
        access_log=args.access_log,
        timeout_worker_healthcheck=30,  # a loaded host can take more than the default 5 s
        # Long-lived responses (the revocation stream) must not hold a stop for minutes:
        # their clients reconnect and resume from their last event.
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
    )
    return 0


def _share_metrics_between_workers() -> None:
    """prometheus_client's multiprocess mode (web/metrics.py): each worker writes its
    values into one folder, and a scrape of any worker reads them all. A fresh folder per
    start, unless the operator chose one, so no old process's counts come back."""
    if not os.environ.get(MULTIPROCESS_DIR):
        os.environ[MULTIPROCESS_DIR] = tempfile.mkdtemp(prefix="gatepass-metrics-")


async def _prepare_database(settings: Settings, *, migrate: bool) -> None:
    engine = create_engine(settings.database_url)
    try:
        await check_connection(engine, settings.database_url)
        if migrate:
            await upgrade(engine)
    finally:
        await engine.dispose()
    if settings.redis_url is not None:  # fail now, with one line, not in every worker
        backends = await open_backends(settings)
        await backends.close()


async def migrate(_args: argparse.Namespace, settings: Settings) -> int:
    await _prepare_database(settings, migrate=True)
    print("gatepass: schema is up to date")
    return 0


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    p = commands.add_parser("serve", parents=[common], help="run the identity server")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--no-migrate", action="store_true", help="do not migrate the schema first")
    p.add_argument(
        "--access-log", action="store_true", help="log a line per request (uvicorn's access log)"
    )
    p.set_defaults(run=serve)

    p = commands.add_parser("migrate", parents=[common], help="apply schema migrations")
    p.set_defaults(run=migrate)
