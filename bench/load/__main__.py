"""`python -m bench.load`: the bounded load test (docs/load.md)."""

import sys

from bench.load.run import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
