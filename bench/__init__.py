"""`python -m bench`: a thin wrapper over `gatepass bench` (src/gatepass/benchmarks)."""
