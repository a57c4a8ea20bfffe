"""tests/contract/test_revocation_feed.py on Redis Cluster and Sentinel (borrow.py)."""

from tests.contract import test_revocation_feed as suite
from tests.redis_cluster.borrow import borrowed

globals().update(borrowed(suite))
