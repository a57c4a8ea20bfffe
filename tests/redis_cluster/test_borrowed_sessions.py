"""tests/resource/test_sessions.py on Redis Cluster and Sentinel (borrow.py)."""

from tests.redis_cluster.borrow import borrowed
from tests.resource import test_sessions as suite

globals().update(borrowed(suite))
