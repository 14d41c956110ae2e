"""`python -m daemon` is the same as the `newswatch` console script."""

from daemon.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
