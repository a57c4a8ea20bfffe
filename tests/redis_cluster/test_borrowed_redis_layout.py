"""tests/contract/test_redis_layout.py on Redis Cluster and Sentinel (borrow.py)."""

from tests.contract import test_redis_layout as suite
from tests.redis_cluster.borrow import borrowed

globals().update(borrowed(suite))
