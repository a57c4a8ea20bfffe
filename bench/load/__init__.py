"""The bounded load test: a realistic mix against two `gatepass serve` processes and a
toolkit-protected API, driven by locust (docs/load.md). Run it with `./scripts/load`."""
