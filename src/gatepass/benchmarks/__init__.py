"""`gatepass bench`: sessions vs tokens, measured on this machine and configuration.

The suite (suite.py) runs every part against the configured backends, in a database
and a Redis key prefix of its own; summary.py flattens the figures into results beside
their baselines; output.py prints them and writes report.md with charts (charts.py).
See docs/benchmarks.md for the fixed workload and bench/README.md for each part's method.
"""
