"""The config is refused loudly and precisely, and the shipped example runs as is."""

from __future__ import annotations

from pathlib import Path

import pytest

from daemon.config import load, loads, parse_duration, resolve_path
from daemon.errors import ConfigError
from daemon.models import REGEX_PREFIX

ROOT = Path(__file__).resolve().parents[1]


def test_shipped_config_is_valid() -> None:
    config = load(ROOT / "config.toml")
    assert config.db_path == ROOT / "state" / "news.db"
    assert config.seeds_path == ROOT / "seeds"
    assert {r.name for r in config.rules} == {"nq57", "ct34"}
    assert config.webhooks[0].url.startswith("http://127.0.0.1:")
    assert config.lock_path.parent == config.db_path.parent
    assert config.lock_path != config.db_path


def test_symlinks_outside_the_seed_folder_are_followed_only_when_asked() -> None:
    assert loads("", Path("/etc/newswatch/config.toml")).seeds_follow_symlinks is False
    assert loads("[seeds]\nfollow_symlinks = true\n", Path("/x/config.toml")).seeds_follow_symlinks is True


def test_the_full_rescan_is_hourly_unless_set() -> None:
    assert loads("", Path("/x/config.toml")).seeds_rescan_interval == 3600
    assert loads('[seeds]\nrescan_interval = "30s"\n', Path("/x/config.toml")).seeds_rescan_interval == 30


def test_the_safety_net_stats_every_file_daily_unless_set() -> None:
    assert loads("", Path("/x/config.toml")).seeds_full_rescan_interval == 86400
    assert loads('[seeds]\nfull_rescan_interval = "6h"\n', Path("/x/config.toml")).seeds_full_rescan_interval == 21600


def test_paths_are_relative_to_the_config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "conf").mkdir()
    cfg = tmp_path / "conf" / "newswatch.toml"
    cfg.write_text('[storage]\npath = "db/x.db"\n[seeds]\npath = "../in"\n')
    monkeypatch.chdir("/")
    config = load(cfg)
    assert config.db_path == tmp_path / "conf" / "db" / "x.db"
    assert config.seeds_path == tmp_path / "in"


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("30s", 30), ("15m", 900), ("1h", 3600), ("2d", 172800), (45, 45), (1.5, 1.5), ("500ms", 0.5), (" 2 h ", 7200)],
)
def test_durations(value: object, seconds: float) -> None:
    assert parse_duration(value) == seconds


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[seeds]\nintervl = "3s"\n', "line 2: seeds.intervl: unknown key (did you mean 'interval'?)"),
        ('[sedes]\npath = "x"\n', "sedes: unknown key (did you mean 'seeds'?)"),
        ('[seeds]\ninterval = "soon"\n', 'line 2: seeds.interval: expected a duration'),
        ('[seeds]\ninterval = 0\n', "seeds.interval: must be positive"),
        ('[seeds]\nrescan_interval = "hourly"\n', 'line 2: seeds.rescan_interval: expected a duration'),
        ('[seeds]\nfull_rescan_interval = "daily"\n', 'line 2: seeds.full_rescan_interval: expected a duration'),
        ('[seeds]\nrescan_intervall = "1h"\n', "did you mean 'rescan_interval'?"),
        ('[seeds]\nfollow_symlinks = "yes"\n', "line 2: seeds.follow_symlinks: expected true or false"),
        ('[seeds]\nfollow_symlink = true\n', "did you mean 'follow_symlinks'?"),
        ("[seeds\n", "not valid TOML"),
        ('[[feeds]]\nurl = "http://x/"\n', "feeds[0].name: is required"),
        ('[[feeds]]\nname = "a"\nurl = "file:///etc/passwd"\n', "feeds[0].url: expected an http:// or https:// URL"),
        ('[[feeds]]\nname = "seeds"\nurl = "http://x/"\n', "reserved"),
        ('[[feeds]]\nname = "a"\nurl = "http://x/"\n[[feeds]]\nname = "a"\nurl = "http://y/"\n',
         "feeds[1].name: duplicate name 'a'"),
        ('[[rules]]\nname = "r"\nkeywords = ["regex:(unclosed"]\n', "rule 'r'"),
        ('[[rules]]\nname = "r"\nkeywords = []\n', "needs at least one keyword"),
        ('[[rules]]\nname = "r"\nkeywords = ["x"]\nwebhooks = ["dmeo"]\n[[webhooks]]\nname = "demo"\n'
         'url = "http://127.0.0.1:1/"\n', "unknown webhook 'dmeo' (did you mean 'demo'?)"),
        ('[[rules]]\nname = "r"\nkeywords = ["x"]\nsources = ["nowhere"]\n', "unknown source 'nowhere'"),
        ('[[webhooks]]\nname = "w"\nurl = "http://127.0.0.1:1/"\nformat = "slak"\n', "did you mean 'slack'?"),
        ('[[webhooks]]\nname = "w"\nurl = "http://127.0.0.1:1/"\nsecret = "hunter2"\n', 'whsec_'),
        ('[[webhooks]]\nname = "w"\nurl = "http://127.0.0.1:1/"\nformat = "telegram"\n', "chat_id: is required"),
        ('[[webhooks]]\nname = "w"\nurl = "http://127.0.0.1:1/"\nsecret_env = "NEWSWATCH_TEST_UNSET_VAR"\n',
         "NEWSWATCH_TEST_UNSET_VAR is not set"),
        ('[service]\ntimezone = "Asia/Hanoi_City"\n', "unknown time zone"),
        ('[http]\nlisten = "localhost"\n', "HOST:PORT"),
        ('[fetch]\nmax_bytes = "lots"\n', "fetch.max_bytes"),
    ],
)
def test_bad_config_is_one_clear_line(text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        loads(text, Path("/etc/newswatch/config.toml"))
    message = str(info.value)
    assert message.startswith("/etc/newswatch/config.toml")
    assert expected in message
    assert "\n" not in message


def test_secret_env_is_resolved_and_never_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NW_SECRET", "whsec_c2VjcmV0LXZhbHVlLWZvci10ZXN0cw==")
    config = loads('[[webhooks]]\nname = "w"\nurl = "http://127.0.0.1:1/"\nsecret_env = "NW_SECRET"\n', Path("c.toml"))
    assert config.webhooks[0].secret == "whsec_c2VjcmV0LXZhbHVlLWZvci10ZXN0cw=="
    assert "c2VjcmV0" not in repr(config)


def test_regex_prefix_keywords_are_kept_verbatim() -> None:
    config = loads(f'[[rules]]\nname = "r"\nkeywords = ["{REGEX_PREFIX}Nghị quyết \\\\d+"]\n', Path("c.toml"))
    assert config.rules[0].keywords == (r"regex:Nghị quyết \d+",)


def test_config_location(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NEWSWATCH_CONFIG", raising=False)
    assert resolve_path(None) == Path("config.toml")
    monkeypatch.setenv("NEWSWATCH_CONFIG", "/x/env.toml")
    assert resolve_path(None) == Path("/x/env.toml")
    assert resolve_path("cli.toml") == Path("cli.toml")


def test_missing_file_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read config file"):
        load(tmp_path / "nope.toml")
