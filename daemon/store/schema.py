"""The database schema as an ordered list of migrations.

The SQLite file is the users' query interface (sqlite3, sqlite-utils, Datasette), so tables and
column names are part of the product: never rename, only add. Each migration runs once, in its own
transaction, and is recorded in ``_migrations``.

Times are ISO 8601 text in the configured zone (default ``+07:00``), so text order is time order.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass

from daemon.errors import StoreError
from daemon.text.normalize import content_hash
from daemon.text.search import folded_copy


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    apply: Callable[[sqlite3.Connection], None]


V1_TABLES = """
CREATE TABLE articles (
    id             INTEGER PRIMARY KEY,
    content_hash   TEXT NOT NULL UNIQUE,      -- 'v2:' + sha256 of title and body (text.content_hash)
    title          TEXT NOT NULL,
    body           TEXT NOT NULL,
    url            TEXT,
    source         TEXT NOT NULL,             -- the source that saw it first: 'seeds' or a feed name
    category       TEXT,
    published_at   TEXT,                      -- ISO 8601 with offset
    published_raw  TEXT,                      -- the date as written in the source
    date_inferred  INTEGER NOT NULL DEFAULT 0,-- 1: published_at is a fallback (file or fetch time)
    ingested_at    TEXT NOT NULL,
    folded         TEXT NOT NULL              -- folded words with đ ('Đảng' → 'dang'), for search
);
CREATE INDEX articles_published_at ON articles(published_at);
CREATE INDEX articles_ingested_at ON articles(ingested_at);

CREATE TABLE sightings (                      -- every time a source delivered an article
    id          INTEGER PRIMARY KEY,
    article_id  INTEGER NOT NULL REFERENCES articles(id),
    source      TEXT NOT NULL,
    locator     TEXT NOT NULL,                -- file path under seeds/, or the feed item's key
    seen_at     TEXT NOT NULL,
    is_first    INTEGER NOT NULL,             -- 1 for the sighting that created the article
    UNIQUE (article_id, source, locator)
);
CREATE INDEX sightings_source ON sightings(source, locator);

CREATE TABLE seed_files (                     -- ledger: lets a re-scan skip unchanged files unread
    path        TEXT PRIMARY KEY,             -- relative to the seeds folder
    size        INTEGER NOT NULL,
    mtime_ns    INTEGER NOT NULL,
    sha256      TEXT,                         -- of the raw bytes; NULL when skipped unread
    status      TEXT NOT NULL,                -- ingested | duplicate | skipped
    reason      TEXT,                         -- why skipped
    article_id  INTEGER REFERENCES articles(id),
    seen_at     TEXT NOT NULL
);

CREATE TABLE matches (
    id            INTEGER PRIMARY KEY,
    article_id    INTEGER NOT NULL REFERENCES articles(id),
    rule          TEXT NOT NULL,
    keyword       TEXT NOT NULL,
    matched_text  TEXT NOT NULL,
    field         TEXT NOT NULL,              -- title | body
    snippet       TEXT NOT NULL,
    created_at    TEXT NOT NULL
);
CREATE INDEX matches_article ON matches(article_id);
CREATE INDEX matches_rule ON matches(rule, created_at);

CREATE TABLE alerts (                         -- the outbox: one row per (article, rule, webhook)
    id               TEXT PRIMARY KEY,        -- stable: also the webhook-id header on every attempt
    article_id       INTEGER NOT NULL REFERENCES articles(id),
    rule             TEXT NOT NULL,
    webhook          TEXT NOT NULL,
    status           TEXT NOT NULL DEFAULT 'pending',  -- pending | delivered | failed
    created_at       TEXT NOT NULL,
    next_attempt_at  TEXT NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    last_error       TEXT,
    delivered_at     TEXT,
    UNIQUE (article_id, rule, webhook)
);
CREATE INDEX alerts_due ON alerts(status, next_attempt_at);

CREATE TABLE delivery_attempts (
    id           INTEGER PRIMARY KEY,
    alert_id     TEXT NOT NULL REFERENCES alerts(id),
    webhook      TEXT NOT NULL,
    message_id   TEXT NOT NULL,               -- webhook-id sent (the alert id, or a digest id)
    attempted_at TEXT NOT NULL,
    status_code  INTEGER,                     -- NULL when no HTTP answer (refused, timeout)
    error        TEXT,
    duration_ms  INTEGER NOT NULL
);
CREATE INDEX delivery_attempts_alert ON delivery_attempts(alert_id);

CREATE TABLE webhooks (                       -- runtime state per configured webhook
    name             TEXT PRIMARY KEY,
    disabled_at      TEXT,                    -- set when the receiver answered 410 Gone
    disabled_reason  TEXT
);

CREATE TABLE feeds (                          -- per-feed health and conditional-GET state
    name                TEXT PRIMARY KEY,
    url                 TEXT NOT NULL,        -- current URL (updated on 301/308)
    configured_url      TEXT NOT NULL,
    etag                TEXT,
    last_modified       TEXT,
    last_status         INTEGER,
    last_error          TEXT,
    last_warning        TEXT,
    consecutive_errors  INTEGER NOT NULL DEFAULT 0,
    last_fetch_at       TEXT,
    last_success_at     TEXT,
    last_new_at         TEXT,                 -- last time an item was new
    next_fetch_at       TEXT,
    items_seen          INTEGER NOT NULL DEFAULT 0,
    first_fetch_done    INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE jobs (                           -- scheduling state: next-due times survive restarts
    name         TEXT PRIMARY KEY,
    next_run_at  TEXT,
    last_run_at  TEXT,
    last_ok_at   TEXT,
    last_error   TEXT,
    runs         INTEGER NOT NULL DEFAULT 0,
    errors       INTEGER NOT NULL DEFAULT 0,
    last_duration_ms INTEGER
);
"""


def _v1(conn: sqlite3.Connection) -> None:
    for statement in _split(V1_TABLES):
        conn.execute(statement)
    # FTS5 over title, body and the folded đ-words, kept in sync by triggers. The layout is the one
    # sqlite-utils' enable_fts() creates (articles_fts, content="articles"), so `sqlite-utils search`
    # and Datasette detect it without configuration.
    conn.execute(
        """CREATE VIRTUAL TABLE articles_fts USING FTS5 (
               title, body, folded, content=[articles], tokenize='unicode61 remove_diacritics 2')"""
    )
    for event in _FTS_TRIGGERS:
        conn.execute(_fts_trigger(event))


# The triggers that keep articles_fts in step with articles, by event (also recreated by migration 3).
_FTS_TRIGGERS = {
    "INSERT": "INSERT INTO articles_fts (rowid, title, body, folded) "
              "VALUES (new.rowid, new.title, new.body, new.folded);",
    "DELETE": "INSERT INTO articles_fts (articles_fts, rowid, title, body, folded) "
              "VALUES('delete', old.rowid, old.title, old.body, old.folded);",
    "UPDATE": "INSERT INTO articles_fts (articles_fts, rowid, title, body, folded) "
              "VALUES('delete', old.rowid, old.title, old.body, old.folded); "
              "INSERT INTO articles_fts (rowid, title, body, folded) "
              "VALUES (new.rowid, new.title, new.body, new.folded);",
}


def _fts_trigger(event: str, columns: str = "") -> str:
    """The trigger for ``event``; ``columns`` limits an UPDATE trigger to changes of those columns."""
    name = {"INSERT": "ai", "DELETE": "ad", "UPDATE": "au"}[event]
    of = f" OF {columns}" if columns else ""
    return f"CREATE TRIGGER articles_{name} AFTER {event}{of} ON articles BEGIN {_FTS_TRIGGERS[event]} END"


def _v3(conn: sqlite3.Connection) -> None:
    """Content hash v2 (title and body): every stored hash recomputed from the stored title and body.

    An article stored under v1 then meets its row again when it arrives: prepare() stores exactly the
    title and body it hashes. One UPDATE statement over a SQL function, so SQLite walks the table and
    Python sees two strings a row. The FTS update trigger is dropped meanwhile: it re-indexes every
    updated row, and the hash is not indexed (it would cost far more than the hashing). Articles v1
    merged stay merged: the titles of the other arrivals were never stored. It hashes with the current
    recipe (``text.content_hash``), so on a later version bump it gives that version's hashes too.

    OR IGNORE: a row edited by hand (its stored hash no longer that of its text) can come out equal to
    another row; the older article (lower id, updated first) takes the v2 hash, the other keeps its v1
    hash, which no arrival computes any more, instead of the database refusing to open.
    """
    conn.execute("DROP TRIGGER articles_au")
    conn.create_function("newswatch_content_hash", 2, content_hash, deterministic=True)
    try:
        conn.execute("UPDATE OR IGNORE articles SET content_hash = newswatch_content_hash(title, body)")
    finally:
        conn.create_function("newswatch_content_hash", 2, None)
    conn.execute(_fts_trigger("UPDATE"))


def _split(script: str) -> list[str]:
    """Split a script of plain CREATE statements (no triggers) on semicolons."""
    lines = [line.split("--", 1)[0] for line in script.splitlines()]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]


def _v2(conn: sqlite3.Connection) -> None:
    # When the current run of failed polls began (NULL while the feed works). Without it a feed added a
    # minute ago whose first poll failed looked as stale as one failing for a week.
    conn.execute("ALTER TABLE feeds ADD COLUMN failing_since TEXT")


def _v4(conn: sqlite3.Connection) -> None:
    # A file gone from the seed folder keeps its row (what it was, which article it brought): status
    # 'deleted', and when the scan found it gone.
    conn.execute("ALTER TABLE seed_files ADD COLUMN deleted_at TEXT")


def _v5(conn: sqlite3.Connection) -> None:
    # The outlet an article names (a seed file's `source:` header, "Báo Đà Nẵng"); `source` stays where
    # newswatch got it ('seeds' or a feed name), which sightings and rules' `sources` filters use.
    conn.execute("ALTER TABLE articles ADD COLUMN outlet TEXT")


STORY_TABLES = """
CREATE TABLE stories (                        -- one report, however many outlets carried it
    id                INTEGER PRIMARY KEY,    -- the id of its first article
    title             TEXT NOT NULL,          -- its first article's title
    first_article_id  INTEGER NOT NULL REFERENCES articles(id),
    first_seen_at     TEXT NOT NULL,
    last_seen_at      TEXT NOT NULL,          -- the last time a copy (or a sighting of one) arrived
    article_count     INTEGER NOT NULL,
    source_count      INTEGER NOT NULL        -- distinct outlets: feed names, a seed file's outlet
);
CREATE INDEX stories_last_seen ON stories(last_seen_at);

CREATE TABLE story_keys (                     -- internal: sampled shingle keys of articles
    key         INTEGER NOT NULL,
    article_id  INTEGER NOT NULL,
    story_id    INTEGER NOT NULL,
    PRIMARY KEY (key, article_id)
) WITHOUT ROWID;

CREATE TABLE story_sketches (                 -- internal: what story assignment knows of each article
    article_id    INTEGER PRIMARY KEY REFERENCES articles(id),
    story_id      INTEGER NOT NULL,
    body_keys     INTEGER NOT NULL,
    lead_keys     INTEGER NOT NULL,
    short         INTEGER NOT NULL,
    seen_at       TEXT NOT NULL,
    published_at  TEXT,                       -- NULL when the article's date is a fallback
    numbers       TEXT NOT NULL               -- hashes of its figures, comma-separated
)
"""


def _v6(conn: sqlite3.Connection) -> None:
    """Stories. The tables only: assigning the stored articles needs ``[stories]`` from the config, so the
    first start after the upgrade does it (``StoryTables.backfill_stories``), in first-seen order.

    The FTS update trigger now fires only when an indexed column changes: setting ``story_id`` on every
    new article must not re-index it.
    """
    for statement in _split(STORY_TABLES):
        conn.execute(statement)
    conn.execute("ALTER TABLE articles ADD COLUMN story_id INTEGER REFERENCES stories(id)")
    conn.execute("CREATE INDEX articles_story ON articles(story_id)")
    conn.execute("DROP TRIGGER articles_au")
    conn.execute(_fts_trigger("UPDATE", columns="title, body, folded"))


FTS_TOKENIZER = "unicode61 remove_diacritics 0"


def _v7(conn: sqlite3.Connection) -> None:
    """Search that keeps diacritics: the text as written and a folded copy, in one FTS5 table.

    Version 1 folded every mark in the index (``remove_diacritics 2``) and kept only the words with đ
    folded beside it, so "Đà Nẵng" found «đã» and "Đảng" «đang». Now title and body are indexed as written
    (lower case, marks kept) and ``folded`` holds the whole article folded (``text.search``): a query
    word with diacritics can only meet the first, one without meets the second. One table still, named
    and laid out as sqlite-utils' ``enable_fts`` does, so sqlite-utils and Datasette search it as is.
    """
    conn.execute("DROP TRIGGER articles_au")  # the index is rebuilt whole below: no per-row re-index
    conn.create_function("newswatch_folded_copy", 2, folded_copy, deterministic=True)
    try:
        conn.execute("UPDATE articles SET folded = newswatch_folded_copy(title, body)")
    finally:
        conn.create_function("newswatch_folded_copy", 2, None)
    conn.execute("DROP TABLE articles_fts")
    conn.execute(
        "CREATE VIRTUAL TABLE articles_fts USING FTS5 ("
        f"title, body, folded, content=[articles], tokenize='{FTS_TOKENIZER}')"
    )
    conn.execute("INSERT INTO articles_fts (articles_fts) VALUES ('rebuild')")
    conn.execute(_fts_trigger("UPDATE", columns="title, body, folded"))  # as migration 6 made it


VIEWS = """
CREATE VIEW article_matches AS                -- one row per keyword hit, with its article
SELECT m.id, m.article_id, a.title, a.source, a.outlet, a.category, a.published_at, a.url,
       m.rule, m.keyword, m.matched_text, m.field, m.snippet, m.created_at
FROM matches m JOIN articles a ON a.id = m.article_id;

CREATE VIEW article_alerts AS                 -- one row per alert, with its article and its webhook's state
SELECT al.id, al.article_id, a.title, a.source, a.published_at, a.url, al.rule, al.webhook, al.status,
       al.attempts, al.last_error, al.created_at, al.next_attempt_at, al.delivered_at,
       w.disabled_at AS webhook_disabled_at, w.disabled_reason AS webhook_disabled_reason
FROM alerts al JOIN articles a ON a.id = al.article_id LEFT JOIN webhooks w ON w.name = al.webhook;

CREATE VIEW article_overview AS               -- one row per article: what it matched, where its alerts are
SELECT a.id, a.title, a.source, a.outlet, a.category, a.published_at, a.url,
       (SELECT json_group_array(rule) FROM (SELECT DISTINCT rule FROM matches WHERE article_id = a.id))
           AS rules,
       (SELECT count(*) FROM matches WHERE article_id = a.id) AS hits,
       CASE WHEN NOT EXISTS (SELECT 1 FROM alerts WHERE article_id = a.id) THEN 'none'
            WHEN EXISTS (SELECT 1 FROM alerts WHERE article_id = a.id AND status = 'failed') THEN 'failed'
            WHEN EXISTS (SELECT 1 FROM alerts WHERE article_id = a.id AND status = 'pending') THEN 'pending'
            ELSE 'delivered' END AS alert_status
FROM articles a
"""


def _v8(conn: sqlite3.Connection) -> None:
    # The joins office staff need most, as views (sqlite3, sqlite-utils and Datasette show them as tables).
    for statement in _split(VIEWS):
        conn.execute(statement)


BRIEF_TABLES = """
CREATE TABLE briefings (                      -- one row per briefing made: (name, period) once
    id            TEXT PRIMARY KEY,           -- stable: 'br_' + hash of name, period and its start
    name          TEXT NOT NULL,              -- the [[briefings]] name ('' for `newswatch brief` without --name)
    period        TEXT NOT NULL,              -- day | week | month
    period_start  TEXT NOT NULL,
    period_end    TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    articles      INTEGER NOT NULL,
    stories       INTEGER NOT NULL,
    outlets       INTEGER NOT NULL,
    files         TEXT NOT NULL               -- JSON array of the files written
);
CREATE INDEX briefings_name ON briefings(name, period_end);

CREATE TABLE briefing_schedules (             -- when the service first knew each scheduled briefing
    name   TEXT PRIMARY KEY,
    since  TEXT NOT NULL                      -- periods ending before this are never made (no backlog)
);

CREATE TABLE events (                         -- the outbox for messages that are not article alerts
    id               TEXT PRIMARY KEY,        -- stable (the webhook-id header): 'ev_' + hash of key, webhook
    type             TEXT NOT NULL,           -- briefing.ready | rule.spike
    key              TEXT NOT NULL,           -- what it is about: a briefing id, 'RULE@YYYY-MM-DD'
    webhook          TEXT NOT NULL,
    body             TEXT NOT NULL,           -- the request body, rendered for the webhook's format
    status           TEXT NOT NULL DEFAULT 'pending',  -- pending | delivered | failed
    created_at       TEXT NOT NULL,
    next_attempt_at  TEXT NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    last_error       TEXT,
    delivered_at     TEXT,
    UNIQUE (type, key, webhook)
);
CREATE INDEX events_due ON events(status, next_attempt_at);

CREATE TABLE event_attempts (                 -- every HTTP attempt of an event, as delivery_attempts for alerts
    id           INTEGER PRIMARY KEY,
    event_id     TEXT NOT NULL REFERENCES events(id),
    webhook      TEXT NOT NULL,
    attempted_at TEXT NOT NULL,
    status_code  INTEGER,
    error        TEXT,
    duration_ms  INTEGER NOT NULL
);
CREATE INDEX event_attempts_event ON event_attempts(event_id);

CREATE TABLE document_refs (                  -- the first article that cited each document (by its code)
    code        TEXT PRIMARY KEY,             -- one spelling: 'NQ 57 (TW)', 'QĐ 1519 (TTG)'
    article_id  INTEGER NOT NULL REFERENCES articles(id),
    first_seen  TEXT NOT NULL                 -- the article's ingested_at
);
CREATE INDEX document_refs_first_seen ON document_refs(first_seen)
"""


def _v9(conn: sqlite3.Connection) -> None:
    """The briefing: briefings made, the event outbox, and the first citation of every document.

    ``document_refs`` is filled from then on at ingest (``ArticleTables.ingest``); here the stored
    archive is read once in first-seen order, so the first article to cite a document is the one kept.
    """
    for statement in _split(BRIEF_TABLES):
        conn.execute(statement)
    conn.create_function("newswatch_document_codes", 2, _codes_json, deterministic=True)
    try:
        conn.execute(
            "INSERT OR IGNORE INTO document_refs (code, article_id, first_seen)"
            " SELECT j.value, a.id, a.ingested_at FROM articles a,"
            " json_each(newswatch_document_codes(a.title, a.body)) j ORDER BY a.ingested_at, a.id")
    finally:
        conn.create_function("newswatch_document_codes", 2, None)


def _codes_json(title: str, body: str) -> str:
    from daemon.text.docrefs import document_codes  # noqa: PLC0415  (its patterns cost every start ~5 ms)

    return json.dumps(document_codes(f"{title}\n{body}"), ensure_ascii=False)


def _v10(conn: sqlite3.Connection) -> None:
    """Stories are found in an in-memory window of recent articles (``daemon.stories.window``), rebuilt
    from the articles' text at each start: the shingle keys and sketches stored for the look-up in
    SQLite are no longer read or written. The tables stay (tables are only ever added); their rows go."""
    conn.execute("DELETE FROM story_keys")
    conn.execute("DELETE FROM story_sketches")


# What `newswatch status` and /metrics count, kept by triggers: (counter, table, how much a row adds).
# A status-keyed counter ("alerts:pending") is named from the row. Triggers, not the store's writes, so a
# row deleted or edited with sqlite3 by hand is counted right too.
COUNTED = (
    ("'articles'", "articles", "1"),
    ("'sightings'", "sightings", "1"),
    ("'matches'", "matches", "1"),
    ("'stories'", "stories", "1"),
    ("'stories_with_copies'", "stories", "({row}.article_count > 1)"),
    ("'alerts:' || {row}.status", "alerts", "1"),
    ("'seed_files:' || {row}.status", "seed_files", "1"),
)


def _count_triggers(conn: sqlite3.Connection) -> None:
    """Per counted table an INSERT and a DELETE trigger, and an UPDATE one where a row can move between
    counters (an alert's status, a story's size)."""
    by_table: dict[str, list[tuple[str, str]]] = {}
    for name, table, weight in COUNTED:
        by_table.setdefault(table, []).append((name, weight))

    def add(name: str, weight: str, row: str, sign: str) -> str:
        n, w = name.format(row=row), weight.format(row=row)
        return (f"INSERT INTO counts (name, n) VALUES ({n}, {sign}{w})"
                f" ON CONFLICT (name) DO UPDATE SET n = n {sign} {w};")

    moved_by = {"alerts": "status", "seed_files": "status", "stories": "article_count"}
    for table, counters in by_table.items():
        ins = " ".join(add(n, w, "new", "+") for n, w in counters)
        dele = " ".join(add(n, w, "old", "-") for n, w in counters)
        conn.execute(f"CREATE TRIGGER counts_{table}_ai AFTER INSERT ON {table} BEGIN {ins} END")
        conn.execute(f"CREATE TRIGGER counts_{table}_ad AFTER DELETE ON {table} BEGIN {dele} END")
        if table in moved_by:
            col = moved_by[table]
            upd = " ".join(add(n, w, "old", "-") + " " + add(n, w, "new", "+")
                           for n, w in counters if "{row}" in n + w)
            conn.execute(f"CREATE TRIGGER counts_{table}_au AFTER UPDATE OF {col} ON {table}"
                         f" WHEN old.{col} IS NOT new.{col} BEGIN {upd} END")


def _v11(conn: sqlite3.Connection) -> None:
    """Row counts kept by triggers: `newswatch status` ran seven count(*)s, each a walk of a whole table
    (a million rows for a year's archive); now it reads one small table. Counted once here, then kept."""
    conn.execute("CREATE TABLE counts (name TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID")
    for name, table, weight in COUNTED:
        conn.execute(f"INSERT INTO counts (name, n) SELECT {name.format(row=table)}, sum({weight.format(row=table)})"
                     f" FROM {table} GROUP BY 1 HAVING count(*) > 0")
    _count_triggers(conn)


# An article's date as the commands read it: when it was published, else when newswatch first saw it.
ARTICLE_DATE_SQL = "coalesce(published_at, ingested_at)"


def _v12(conn: sqlite3.Connection) -> None:
    # `newswatch match RULE --since 30d` reads a month of a year's archive by this expression; without an
    # index on it, SQLite read and sorted every row of the archive, bodies included.
    conn.execute(f"CREATE INDEX articles_dated ON articles({ARTICLE_DATE_SQL})")


def _v13(conn: sqlite3.Connection) -> None:
    # Each seed scan reads the ledger of the files still in the folder (``ArticleTables.ledger``); rows of
    # files gone stay for good, so after a year of files moving through the folder the scan read a million
    # rows to keep a few (89 ms a scan, measured at 200,000 rows). A partial index holds only the others,
    # and covers the read.
    conn.execute("CREATE INDEX seed_files_live ON seed_files(path, size, mtime_ns, status) WHERE status != 'deleted'")


def _v14(conn: sqlite3.Connection) -> None:
    # The SHA-256 of the feed's body last parsed: many outlets send no ETag or Last-Modified and the same
    # bytes at every poll; a 200 with these bytes again is not parsed again (``FeedFetcher.download``).
    conn.execute("ALTER TABLE feeds ADD COLUMN body_sha256 TEXT")


def _v15(conn: sqlite3.Connection) -> None:
    """A story's link to its first article checked at the commit, and indexed.

    A new story and its first article point at each other (``stories.first_article_id``,
    ``articles.story_id``), so one of the two rows is written before the other exists. The ingest used to
    insert the article without its story and set ``story_id`` after, which rewrote the whole row, text
    included (15 µs an article, measured). Now the story is inserted first, and its link to the article
    is checked when the transaction commits. A foreign key's deferral is part of the table's text in
    ``sqlite_schema`` only (nothing on disk depends on it), so the text is edited there: SQLite's own
    procedure for constraint changes (``ALTER TABLE``, "Making Other Kinds Of Table Schema Changes").
    The index makes the check of each inserted article an index look-up, not a walk of ``stories``.
    """
    version = int(conn.execute("PRAGMA schema_version").fetchone()[0])
    (sql,) = conn.execute("SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = 'stories'").fetchone()
    column = re.compile(r"(first_article_id\s+INTEGER\s+NOT\s+NULL\s+REFERENCES\s+articles\s*\(\s*id\s*\))")
    if not column.search(sql):
        raise StoreError(f"the stories table is not the one newswatch made: {sql!r}")
    conn.execute("PRAGMA writable_schema = ON")
    try:
        conn.execute("UPDATE sqlite_schema SET sql = ? WHERE type = 'table' AND name = 'stories'",
                     (column.sub(r"\1 DEFERRABLE INITIALLY DEFERRED", sql, count=1),))
        conn.execute(f"PRAGMA schema_version = {version + 1}")
    finally:
        conn.execute("PRAGMA writable_schema = OFF")
    conn.execute("CREATE INDEX stories_first_article ON stories(first_article_id)")


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "initial schema", _v1),
    Migration(2, "feeds.failing_since", _v2),
    Migration(3, "content hash v2: title and body", _v3),
    Migration(4, "seed_files.deleted_at", _v4),
    Migration(5, "articles.outlet", _v5),
    Migration(6, "stories", _v6),
    Migration(7, "search: text as written and folded, one FTS5 table", _v7),
    Migration(8, "views: article_matches, article_alerts, article_overview", _v8),
    Migration(9, "briefings, events outbox, document_refs", _v9),
    Migration(10, "stories: story_keys and story_sketches emptied (an in-memory window instead)", _v10),
    Migration(11, "counts kept by triggers, for status", _v11),
    Migration(12, "index articles_dated: an article's date, published or first seen", _v12),
    Migration(13, "index seed_files_live: the ledger of files still in the folder", _v13),
    Migration(14, "feeds.body_sha256", _v14),
    Migration(15, "stories.first_article_id checked at the commit, and indexed", _v15),
)
SCHEMA_VERSION = max(m.version for m in MIGRATIONS)  # what this newswatch migrates a database to
