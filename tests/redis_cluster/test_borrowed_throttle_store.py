"""tests/contract/test_throttle_store.py on Redis Cluster and Sentinel (borrow.py)."""

from tests.contract import test_throttle_store as suite
from tests.redis_cluster.borrow import borrowed

globals().update(borrowed(suite))
