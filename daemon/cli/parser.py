"""The argument parser: every command, option and help text (tests/test_cli_help.py checks they exist).

Values are checked here, where argparse can name the option, so a command never starts with a
``--limit 0`` or a ``--since 10y`` it would only trip over later.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, NoReturn

from daemon import __version__
from daemon.cli.common import EXIT_USAGE, UsageError

if TYPE_CHECKING:
    from daemon.config import Config


class Command:
    """A command's function, named here and imported when it runs.

    Importing every command's module to build the parser cost `newswatch search` more than its query: the
    checks, the matcher, the whole store, on every call and for `--help`. Each command now loads what it
    uses, and nothing else (tests/test_startup.py holds them to it).
    """

    def __init__(self, target: str) -> None:
        """``target``: "module:function", the module under ``daemon.cli`` ("commands:cmd_search")."""
        module, _, self.name = target.partition(":")
        self.module = f"daemon.cli.{module}"

    def resolve(self) -> Callable[[argparse.Namespace, Config | None], int]:
        # The import statement's machinery, not importlib.import_module: only the former is what
        # `python -X importtime` reports, and that report is how a start-up is examined.
        fn: Callable[[argparse.Namespace, Config | None], int] = getattr(
            __import__(self.module, fromlist=[self.name]), self.name)
        return fn

    def __call__(self, args: argparse.Namespace, config: Config | None) -> int:
        return self.resolve()(args, config)

    def __repr__(self) -> str:
        return f"Command({self.module}:{self.name})"


class _Parser(argparse.ArgumentParser):
    """argparse, but a mistake is one line (the usage block it prints otherwise hides the reason)."""

    def error(self, message: str) -> NoReturn:
        command = self.prog.removeprefix("newswatch").strip()
        hint = f"newswatch {command} --help" if command else "newswatch --help"
        raise UsageError(f"{message} (see `{hint}`)", command)


def _count(value: str) -> int:
    """``--limit``: a whole number of at least 1 (0 would answer "no article matches" for any query)."""
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {value!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {n}")
    return n


def _port(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a port number, got {value!r}") from None
    if not 0 <= n <= 65535:
        raise argparse.ArgumentTypeError(f"must be between 0 and 65535, got {n}")
    return n


def _age(value: str) -> float:
    """``--since``: "90m", "12h", "30d" or seconds, as the config writes durations."""
    from daemon.config import parse_duration  # noqa: PLC0415

    try:
        return parse_duration(value, "--since")
    except Exception:  # the config's own complaint names a config key; say it for the command line
        raise argparse.ArgumentTypeError(
            f'expected a duration like "12h" or "30d", got {value!r}; leave --since out for the whole archive'
        ) from None


def _story_age(value: str) -> float:
    """``stories --since``: the same durations; left out, the last day."""
    from daemon.config import parse_duration  # noqa: PLC0415

    try:
        return parse_duration(value, "--since")
    except Exception:
        raise argparse.ArgumentTypeError(f'expected a duration like "12h" or "7d", got {value!r}') from None


def _run(sp: argparse.ArgumentParser) -> None:
    sp.add_argument("--once", action="store_true", help="run one pass of every job, then exit")


def _search(sp: argparse.ArgumentParser) -> None:
    sp.add_argument("query", help='words to find: "Đà Nẵng" (exact), dang bo (any diacritics), "a phrase" in '
                    "quotes, chuyển* (prefix), a OR b, -word or NOT word (without)")
    sp.add_argument("--limit", type=_count, default=20, help="at most this many results (default 20)")
    sp.add_argument("--sort", choices=("newest", "rank"), default="newest",
                    help="newest first (default) or by relevance")
    sp.add_argument("--all", action="store_true",
                    help="list every matching article (default: one row per story, with its number of copies)")
    sp.add_argument("--json", action="store_true", help="print JSON instead of text")


def _stories(sp: argparse.ArgumentParser) -> None:
    sp.add_argument("--since", metavar="AGE", type=_story_age, default=86400.0,
                    help='stories with a copy seen within this long, e.g. "12h", "7d" (default "1d")')
    sp.add_argument("--rule", metavar="R", help="only stories with an article this rule matched")
    sp.add_argument("--limit", type=_count, default=100, help="at most this many stories (default 100)")
    sp.add_argument("--json", action="store_true", help="print JSON instead of text")


def _brief(sp: argparse.ArgumentParser) -> None:
    sp.add_argument("--name", help="a [[briefings]] entry: its title, rules, `at` and period (default: every rule,"
                    " calendar days)")
    sp.add_argument("--date", metavar="YYYY-MM-DD", help="the day the period ends on (a month: any day of it; default:"
                    " the last complete period in [service] timezone)")
    sp.add_argument("--period", choices=("day", "week", "month"),
                    help="day (default, or the briefing's), week or month")
    sp.add_argument("--format", choices=("md", "html", "docx"), default="md", help="md (default), html or docx")
    sp.add_argument("--out", metavar="PATH", help="the file to write (default: Markdown to standard output; html and"
                    " docx under the briefing's `out`, or state/briefs/)")


def _status(sp: argparse.ArgumentParser) -> None:
    sp.add_argument("--json", action="store_true", help="print JSON instead of text")


def _feeds(sp: argparse.ArgumentParser) -> None:
    sp.add_argument("--json", action="store_true", help="print JSON instead of text")
    fsub = sp.add_subparsers(dest="feeds_command", metavar="ACTION")
    fi = fsub.add_parser("import", help="Add the feeds of an OPML file (Feedly, Miniflux...) to config.toml.",
                         description="Add the feeds of an OPML file (Feedly, Inoreader, Miniflux, FreshRSS...) to"
                                     " config.toml as [[feeds]] entries, keeping its comments; feeds already"
                                     " configured are skipped.")
    fi.add_argument("file", metavar="FILE", help="the OPML file (- for standard input)")
    fi.add_argument("--dry-run", action="store_true", help="print what would be added, write nothing")
    fi.set_defaults(func=Command("feedlist:cmd_feeds_import"))
    fe = fsub.add_parser("export", help="Write the configured feeds as OPML 2.0.",
                         description="Write the configured feeds as OPML 2.0 (each category a folder), for another"
                                     " feed reader.")
    fe.add_argument("file", metavar="FILE", nargs="?", help="where to write it (default: standard output)")
    fe.set_defaults(func=Command("feedlist:cmd_feeds_export"))


def _check(sp: argparse.ArgumentParser) -> None:
    sp.add_argument("--json", action="store_true", help="print JSON instead of text")


def _rules(sp: argparse.ArgumentParser) -> None:
    sp.add_argument("--json", action="store_true", help="print JSON instead of text")


def _webhooks(sp: argparse.ArgumentParser) -> None:
    sp.add_argument("--json", action="store_true", help="print JSON instead of text")


def _fetch(sp: argparse.ArgumentParser) -> None:
    sp.add_argument("name", help="the feed's name in config.toml")


def _alerts(sp: argparse.ArgumentParser) -> None:
    sp.add_argument("--status", choices=("pending", "delivered", "failed"), help="only alerts with this status")
    sp.add_argument("--limit", type=_count, default=50, help="at most this many rows (default 50)")
    sp.add_argument("--json", action="store_true", help="print JSON instead of text")
    group = sp.add_mutually_exclusive_group()
    group.add_argument("--retry", metavar="ID", help="re-queue one pending or failed alert for delivery now")
    group.add_argument("--all-failed", action="store_true", help="re-queue every failed alert")


def _match(sp: argparse.ArgumentParser) -> None:
    sp.add_argument("rule", help="the rule's name in config.toml")
    sp.add_argument("--since", metavar="AGE", type=_age,
                    help='only articles newer than this, e.g. "30d", "12h" (default: the whole archive)')
    sp.add_argument("--json", action="store_true", help="print JSON instead of text")


def _webhook(sp: argparse.ArgumentParser) -> None:
    wsub = sp.add_subparsers(dest="webhook_command", metavar="ACTION", required=True)
    wt = wsub.add_parser("test", help="Send a signed test event and print the receiver's answer.",
                         description="Send a signed test event and print the receiver's answer.")
    wt.add_argument("name", help="the webhook's name in config.toml")
    wt.set_defaults(func=Command("commands:cmd_webhook_test"))
    we = wsub.add_parser("enable", help="Re-enable a webhook that was disabled after a 410 Gone.",
                         description="Re-enable a webhook that was disabled after a 410 Gone.")
    we.add_argument("name", help="the webhook's name in config.toml")
    we.set_defaults(func=Command("commands:cmd_webhook_enable"))


def _listen(sp: argparse.ArgumentParser) -> None:
    sp.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    sp.add_argument("--port", type=_port, default=8787, help="port to listen on (default 8787)")
    sp.add_argument("--secret", help="whsec_... signing secret (default: the configured webhook's for this port)")


def _ui(sp: argparse.ArgumentParser) -> None:
    sp.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    sp.add_argument("--port", type=_port, default=8001, help="port to listen on (default 8001)")


def _backup(sp: argparse.ArgumentParser) -> None:
    sp.add_argument("path", metavar="PATH", help="the backup file to write, e.g. /var/backups/newswatch/news.db")
    sp.add_argument("--force", action="store_true", help="replace PATH if it exists (atomically)")


# Every command: its name, its function ("module:function" under daemon.cli; None: one of its actions has
# one), what adds its options, and its help.
COMMANDS: tuple[tuple[str, str | None, Callable[[argparse.ArgumentParser], None], str], ...] = (
    ("run", "commands:cmd_run", _run,
     "Run the service: scan seeds, poll feeds, deliver alerts, until Ctrl-C/SIGTERM."),
    ("search", "commands:cmd_search", _search,
     "Full-text search the stored articles: words with diacritics match them, words without match any "
     "spelling."),
    ("stories", "commands:cmd_stories", _stories,
     "List stories (one report carried by many outlets) with their copies."),
    ("brief", "brief:cmd_brief", _brief,
     "Write the briefing (điểm báo) of one period from the archive: each rule's stories with their "
     "outlets and summaries, new documents, the 30-day trend."),
    ("status", "status:cmd_status", _status,
     "Show counts, job runs, feed health and database size."),
    ("feeds", "status:cmd_feeds", _feeds,
     "List configured feeds with their health; import or export them as OPML."),
    ("check", "check:cmd_check", _check,
     "Validate the config and the database without starting anything; print a summary (exit 0 ok, 3 "
     "would not start)."),
    ("rules", "listing:cmd_rules", _rules,
     "List the rules, with how each keyword will be matched."),
    ("webhooks", "listing:cmd_webhooks", _webhooks,
     "List the webhooks (never their secrets) and the rules that alert them."),
    ("fetch", "commands:cmd_fetch", _fetch,
     "Poll one feed now and print what it found."),
    ("alerts", "commands:cmd_alerts", _alerts,
     "List alerts, or re-queue failed ones."),
    ("match", "commands:cmd_match", _match,
     "Show what a rule would match in the stored archive (sends nothing)."),
    ("webhook", None, _webhook,
     "Webhook tools."),
    ("listen", "commands:cmd_listen", _listen,
     "A small receiver that verifies signatures and prints alerts as they arrive."),
    ("ui", "ui:cmd_ui", _ui,
     "Open the archive in Datasette (read-only): search, facets and ready-made questions."),
    ("backup", "commands:cmd_backup", _backup,
     "Write a checked, consistent copy of the database (safe while the service runs)."),
)


_VALUED = ("--config", "--log-level", "--log-format")  # the options before the command that take a value
_HELP = ("-h", "--help")


def _wanted(words: Sequence[str]) -> frozenset[str] | None:
    """The commands whose parsers ``words`` need (None: all of them, to list or to say which is not one).

    Building all twenty took 7.5-9 ms of every start, more than opening the archive and searching it.
    Only a command line that asks for the list (``--help`` before any command) or names no command
    there is needs them all; argparse's abbreviations (``--conf PATH``) are read as it reads them.
    """
    i = 0
    while i < len(words):
        word = words[i]
        if word == "--":  # argparse 3.11 takes it for the command, and lists every command it is not
            return None
        if not word.startswith("-") or word == "-":
            return _known([word])
        if word.startswith("--") and "=" not in word and len(word) > 2 and any(o.startswith(word) for o in _VALUED):
            i += 1  # its value
        elif any(h.startswith(word) for h in _HELP if word.startswith("--") or word == "-h"):
            return None
        i += 1
    return frozenset()  # no command: "the following arguments are required: COMMAND", or --version


def _known(words: Sequence[str]) -> frozenset[str] | None:
    names = {name for name, *_ in COMMANDS}
    return frozenset(words) if words and words[0] in names else None


def _needs_action(args: argparse.Namespace, config: Config | None) -> int:
    """``webhook`` alone: never run, argparse asks for its action first."""
    return EXIT_USAGE


def build_parser(words: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser; given the command line it will parse, only with what that command line needs."""
    only = None if words is None else _wanted(words)
    p = _Parser(
        prog="newswatch",
        description="Follow Vietnamese news: ingest seed files and RSS/Atom feeds into SQLite, "
                    "match keyword rules, alert webhooks.",
        epilog="Config: --config PATH, else $NEWSWATCH_CONFIG, else ./config.toml.",
    )
    p.add_argument("--version", action="version", version=f"newswatch {__version__}")
    p.add_argument("--config", metavar="PATH", help="config file (default: $NEWSWATCH_CONFIG or ./config.toml)")
    p.add_argument("--log-level", default="INFO", help="DEBUG, INFO, WARNING or ERROR (default INFO)")
    p.add_argument("--log-format", choices=("human", "json"), default="human",
                   help="log lines on stderr: human-readable (default) or one JSON object per line")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, target, options, help_ in COMMANDS:
        if only is None or name in only:
            sp = sub.add_parser(name, help=help_, description=help_)
            sp.set_defaults(func=Command(target) if target else _needs_action)
            options(sp)
    return p


