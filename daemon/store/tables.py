"""``Store``: every group of tables in one class, as the pipeline, the scheduler and most commands use it."""

from daemon.store.articles import ArticleTables
from daemon.store.briefs import BriefTables
from daemon.store.events import Outbox
from daemon.store.feeds import FeedTables
from daemon.store.jobs import JobTables
from daemon.store.search import SearchTables


class Store(ArticleTables, SearchTables, FeedTables, Outbox, JobTables, BriefTables):
    """The database as the pipeline, the scheduler and the CLI see it."""
