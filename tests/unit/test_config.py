from __future__ import annotations

from datetime import time
from pathlib import Path

import pytest

from bot.config import ConfigError, load_config, resolve_config_path


def test_defaults_without_a_file() -> None:
    config = load_config(None, environ={})
    assert config.campaign.timezone == "Asia/Shanghai"
    assert config.campaign.default_due_time == time(17, 30)
    assert config.database.url.startswith("sqlite:///")
    assert not config.telegram.has_token


def test_example_file_is_valid_and_documents_every_section() -> None:
    config = load_config(Path("config.example.toml"), environ={})
    text = Path("config.example.toml").read_text(encoding="utf-8")
    for section in type(config).model_fields.values():
        name = section.alias or ""
        assert name == "" or f"[{name}]" in text
    for name in ("telegram", "database", "storage", "campaign", "bot"):
        assert f"[{name}]" in text


def test_environment_supplies_token_and_database(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[telegram]\ntoken = "from-file"\n', encoding="utf-8")
    config = load_config(
        path,
        environ={"INSPECTBOT_TOKEN": "123:env", "INSPECTBOT_DATABASE_URL": "postgresql://x/y"},
    )
    assert config.telegram.token.get_secret_value() == "123:env"
    assert config.database.url == "postgresql://x/y"
    assert "123:env" not in repr(config)


def test_unknown_key_names_file_section_and_key(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[telegram]\ntokn = "x"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(path, environ={})
    message = str(err.value)
    assert str(path) in message and "[telegram] tokn" in message


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ('[campaign]\ntimezone = "Mars/Olympus"\n', "[campaign] timezone"),
        ('[telegram]\nwebhook_port = 70000\n', "[telegram] webhook_port"),
        ('[bot]\ndefault_language = "fr"\n', "[bot] default_language"),
        ('[telegram\n', "not valid TOML"),
    ],
)
def test_bad_values_are_named(tmp_path: Path, body: str, fragment: str) -> None:
    path = tmp_path / "c.toml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(ConfigError, match=r".*") as err:
        load_config(path, environ={})
    assert fragment in str(err.value)


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.toml", environ={})


def test_config_path_resolution(tmp_path: Path) -> None:
    assert resolve_config_path("a.toml", environ={}) == Path("a.toml")
    assert resolve_config_path(None, environ={"INSPECTBOT_CONFIG": "b.toml"}) == Path("b.toml")
