"""RSS/Atom feeds: fetch (HTTP with hard limits), parse (feedparser, safely), items → Documents.

- ``fetch.FeedFetcher``          ``fetch_all`` returns one ``FetchResult`` per feed, failures included;
                                 ``download`` and ``parse`` are its two halves (parsing may go to a worker)
- ``items.feed_documents``       a feed's bytes → Documents (``fastparse`` reads well-formed RSS 2.0)
- ``results.FeedState``, ``results.FetchResult``   what a poll starts from and what it produced
- ``decide.decide_poll``         what a poll changes (pure); ``schedule.next_fetch_delay`` when to poll again

Import the submodule you need; nothing is re-exported here, because importing any submodule runs this
file first, and the store (which needs ``decide`` and ``results``) must not load httpx and feedparser
for every `newswatch status` (tests/test_imports.py checks).
"""
