"""tests/contract/test_session_manager.py on Redis Cluster and Sentinel (borrow.py)."""

from tests.contract import test_session_manager as suite
from tests.redis_cluster.borrow import borrowed

globals().update(borrowed(suite))
