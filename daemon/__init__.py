"""newswatch: follow Vietnamese news for party committee offices.

The package is a one-way pipeline; each module imports only from those above it:

    errors, models -> config -> text, sources, match -> store -> deliver -> pipeline -> scheduler -> cli
"""

__version__ = "0.1.0"
