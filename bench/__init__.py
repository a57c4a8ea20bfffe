"""gatepass benchmarks: the session check per backend beside a raw redis-py GET.

Run with `./scripts/bench` (or `python -m bench`); see bench/README.md.
"""
