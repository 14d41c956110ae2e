"""RSS/Atom feeds: fetch (HTTP with hard limits), parse (feedparser, safely), items → Documents.

The pipeline calls ``FeedFetcher.fetch_all`` and gets one ``FetchResult`` per feed, failures included;
``schedule.next_fetch_delay`` decides when to poll again.
"""

from daemon.sources.feeds.fetch import FeedFetcher
from daemon.sources.feeds.results import FeedState, FetchResult
from daemon.sources.feeds.schedule import next_fetch_delay

__all__ = ["FeedFetcher", "FeedState", "FetchResult", "next_fetch_delay"]
