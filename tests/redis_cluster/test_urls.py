"""Redis URLs (gatepass/redis_connect.py, docs/redis.md): every form parsed in one place,
a malformed one refused at start-up with one line that names the setting."""

import pytest

from gatepass.config import load_settings
from gatepass.errors import ConfigError
from gatepass.redis_url import parse_redis_url
from gatepass.resource.feeds import RedisRevocationFeed
from gatepass.resource.revocations import RevocationSet
from gatepass.resource.sessions import SessionVerifier


def test_a_sentinel_url_names_its_sentinels_service_db_and_credentials() -> None:
    target = parse_redis_url(
        "redis+sentinel://:s%40cret@10.0.0.1:26380,10.0.0.2/gpmaster/3?sentinel_password=pw"
    )
    assert (target.kind, target.service, target.db) == ("sentinel", "gpmaster", 3)
    assert target.hosts == (("10.0.0.1", 26380), ("10.0.0.2", 26379))
    assert (target.password, target.sentinel_password, target.ssl) == ("s@cret", "pw", False)
    assert "s@cret" not in repr(target)


def test_a_cluster_url_names_its_seed_nodes_and_pool_cap() -> None:
    target = parse_redis_url("rediss+cluster://app:pw@[::1]:7000,cache-2?max_connections=16")
    assert (target.kind, target.ssl, target.max_connections) == ("cluster", True, 16)
    assert target.hosts == (("::1", 7000), ("cache-2", 6379))
    assert (target.username, target.password) == ("app", "pw")


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        pytest.param("redis+sentinel://h:26379", "/service_name", id="sentinel without service"),
        pytest.param("redis+sentinel://h/svc/x", "/service_name", id="db not a number"),
        pytest.param("redis+cluster://h:6379/0", "no path", id="cluster with a db"),
        pytest.param("redis+cluster://h:port", "host:port", id="port not a number"),
        pytest.param("redis+cluster://h:99999", "host:port", id="port out of range"),
        pytest.param("redis+cluster://a:1,,b:2", "host:port", id="empty host"),
        pytest.param("redis+cluster://h?pool=3", "unknown option 'pool'", id="unknown option"),
        pytest.param("redis+cluster://h?max_connections=0", "positive", id="empty pool"),
        pytest.param("redis+shard://h", "unsupported scheme", id="unknown scheme"),
        pytest.param("redis://", "expected redis://", id="no host"),
    ],
)
def test_a_malformed_url_is_one_line_naming_the_setting(url: str, reason: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(environ={"GATEPASS_REDIS_URL": url})
    message = str(caught.value)
    assert message.startswith("GATEPASS_REDIS_URL: ")
    assert reason in message
    assert "\n" not in message


def test_a_password_is_never_repeated_in_the_error() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(environ={"GATEPASS_REDIS_URL": "redis+cluster://:hunter2@h:1/0"})
    assert "hunter2" not in str(caught.value)


@pytest.mark.parametrize(
    "url", ["redis+sentinel://127.0.0.1:1/gp", "redis+cluster://127.0.0.1:1,127.0.0.1:2"]
)
def test_the_toolkit_accepts_the_same_urls(url: str) -> None:
    verifier = SessionVerifier(issuer="https://id.example.com", redis_url=url)
    assert verifier.cookie_name == "__Host-gp_session"
    feed = RedisRevocationFeed(url, RevocationSet(max_token_ttl_seconds=60))
    assert feed.stream == "gp:revocations:stream"


def test_the_toolkit_refuses_a_malformed_url_at_construction() -> None:
    with pytest.raises(ConfigError, match=r"^redis_url: malformed URL: "):
        RedisRevocationFeed("redis+cluster://h/0", RevocationSet(max_token_ttl_seconds=60))
    with pytest.raises(ConfigError, match=r"^redis_url: malformed URL: "):
        SessionVerifier(issuer="https://id.example.com", redis_url="redis+sentinel://h")
