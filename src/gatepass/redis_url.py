"""Redis URLs (docs/redis.md): one server, a master watched by Sentinel, or a Redis Cluster.

    redis://[[user]:password@]host[:port][/db]      one server (redis-py's own URL parser;
    rediss://...   unix:///path.sock?db=N            its query options apply)
    redis+sentinel://[[user]:password@]host[:port][,host[:port]...]/service[/db]
    redis+cluster://[[user]:password@]host[:port][,host[:port]...]
    rediss+sentinel://...   rediss+cluster://...     the same over TLS

Sentinel hosts default to port 26379, cluster nodes to 6379; the credentials are those
of the data nodes. Query options of the `+` forms: `max_connections=N` caps each pool
(per node on a cluster) and `sentinel_password=...` authenticates to the sentinels.
redis-py documents no URL for either, so this module is the one place that parses them:
the configuration check, the server's stores and the resource toolkit all come here.
Standard library only, so that the configuration can check a URL without importing redis
(redis_connect.py builds the clients).
"""

import re
from dataclasses import dataclass, field, replace
from typing import Any, Literal
from urllib.parse import parse_qs, unquote, urlsplit

PLAIN_SCHEMES = frozenset({"redis", "rediss", "unix"})
_PORTS = {"sentinel": 26379, "cluster": 6379}
# netloc, /path, ?query: a host list with commas is no netloc for urlsplit.
_URL_REST = re.compile(r"([^/?]*)([^?]*)\??(.*)", re.DOTALL)
_OPTIONS = {"sentinel": {"max_connections", "sentinel_password"}, "cluster": {"max_connections"}}


@dataclass(frozen=True)
class RedisTarget:
    """What a Redis URL names; `url` is kept for the plain form (redis-py parses it)."""

    kind: Literal["standalone", "sentinel", "cluster"]
    url: str = field(repr=False)  # it may hold a password
    hosts: tuple[tuple[str, int], ...] = ()
    service: str = ""
    db: int = 0
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    ssl: bool = False
    max_connections: int | None = None
    sentinel_password: str | None = field(default=None, repr=False)

    def node_kwargs(self) -> dict[str, Any]:
        """Credentials and TLS of the data nodes, for a client built by hand."""
        return {"username": self.username, "password": self.password, "ssl": self.ssl}


def parse_redis_url(url: str) -> RedisTarget:
    """The target of a Redis URL; ValueError with a one-line reason that never repeats
    the password."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise ValueError("expected redis://, rediss://, redis+sentinel:// or redis+cluster://")
    if scheme in PLAIN_SCHEMES:
        return _plain(url)
    base, _, kind = scheme.partition("+")
    if base not in ("redis", "rediss") or kind not in ("sentinel", "cluster"):
        raise ValueError(f"unsupported scheme {scheme!r}")
    netloc, path, query = _URL_REST.fullmatch(rest).groups()  # type: ignore[union-attr]
    userinfo, _, hostlist = netloc.rpartition("@")
    username, _, password = userinfo.partition(":")
    options = _options(query, _OPTIONS[kind])
    target = RedisTarget(
        kind="sentinel" if kind == "sentinel" else "cluster",
        url=url,
        hosts=_hosts(hostlist, _PORTS[kind]),
        username=unquote(username) or None,
        password=unquote(password) or None,
        ssl=base == "rediss",
        max_connections=_positive(options.get("max_connections")),
        sentinel_password=options.get("sentinel_password"),
    )
    return _with_path(target, path)


def _plain(url: str) -> RedisTarget:
    parts = urlsplit(url)
    if parts.scheme != "unix" and not parts.hostname:
        raise ValueError("expected redis://host:port/db or rediss://...")
    try:
        parts.port  # noqa: B018 - urlsplit validates the port lazily
    except ValueError:
        raise ValueError("the port is not a number") from None
    return RedisTarget(kind="standalone", url=url)


def _hosts(hostlist: str, default_port: int) -> tuple[tuple[str, int], ...]:
    hosts = []
    for item in hostlist.split(","):
        host, colon, port = item.strip().rpartition(":") if ":" in item else (item, "", "")
        host = host.strip("[]")  # an IPv6 literal
        if not host or (colon and not port.isdigit()) or (port and not 0 < int(port) < 65536):
            raise ValueError(f"expected host:port in the host list, got {item.strip()!r}")
        hosts.append((host, int(port) if port else default_port))
    return tuple(hosts)


def _options(query: str, allowed: set[str]) -> dict[str, str]:
    try:
        values = parse_qs(query, keep_blank_values=True, strict_parsing=bool(query))
    except ValueError:
        raise ValueError("malformed query string") from None
    unknown = sorted(set(values) - allowed)
    if unknown:
        raise ValueError(f"unknown option {unknown[0]!r}")
    return {name: found[-1] for name, found in values.items()}


def _positive(value: str | None) -> int | None:
    if value is None:
        return None
    if not value.isdigit() or int(value) < 1:
        raise ValueError("max_connections must be a positive number")
    return int(value)


def _with_path(target: RedisTarget, path: str) -> RedisTarget:
    parts = [unquote(part) for part in path.split("/") if part]
    if target.kind == "cluster":
        if parts:  # a cluster has database 0 only
            raise ValueError("a cluster URL has no path (a cluster has database 0 only)")
        return target
    if not parts or len(parts) > 2 or (len(parts) == 2 and not parts[1].isdigit()):
        raise ValueError("expected /service_name[/db] after the sentinel hosts")
    db = int(parts[1]) if len(parts) == 2 else 0
    return replace(target, service=parts[0], db=db)
