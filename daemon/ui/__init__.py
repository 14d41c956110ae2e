"""The office's query tool: Datasette on the live database, read-only, configured by the project.

``metadata.json`` (shipped beside this file) gives Vietnamese titles and descriptions, hides internal
tables, sets facets and sort orders and holds the canned queries; ``plugin`` (a Datasette plugin,
registered by the ``datasette`` entry point in pyproject.toml) makes Datasette's search box and the
canned search apply ``text.search``'s rules and shows the articles table without its storage columns.
``newswatch ui`` starts it (``cli.ui``). Nothing here is imported by the service.
"""

from pathlib import Path

METADATA = Path(__file__).with_name("metadata.json")

__all__ = ["METADATA"]
