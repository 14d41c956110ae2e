"""sources/feeds."""
