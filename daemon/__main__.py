"""`python -m daemon` is the same as the `newswatch` console script."""

from daemon.cli import console

if __name__ == "__main__":
    raise SystemExit(console())
