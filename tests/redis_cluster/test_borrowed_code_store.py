"""tests/oauth/test_code_store.py on Redis Cluster and Sentinel (borrow.py)."""

from tests.oauth import test_code_store as suite
from tests.redis_cluster.borrow import borrowed

globals().update(borrowed(suite))
