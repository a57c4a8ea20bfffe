"""Redis storage for what is short-lived and hot: sessions and throttle counters."""
