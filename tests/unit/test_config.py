from __future__ import annotations

import re
from datetime import time
from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.app import WebhookUnprotected, run_bot, webhook_arguments
from bot.config import AppConfig, ConfigError, TelegramConfig, load_config, resolve_config_path


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


def _telegram(**values: object) -> TelegramConfig:
    return TelegramConfig.model_validate(values)


def test_webhook_mode_needs_its_public_address() -> None:
    with pytest.raises(ValidationError, match="webhook_url"):
        _telegram(token="1:abc", mode="webhook")


@pytest.mark.parametrize("secret", ["short", "has spaces in it, ok?", "x" * 257, "秘" * 16])
def test_a_weak_or_malformed_webhook_secret_is_refused(secret: str) -> None:
    with pytest.raises(ValidationError, match="webhook_secret"):
        _telegram(webhook_secret=secret)


def test_the_derived_webhook_secret_is_stable_strong_and_specific() -> None:
    one = _telegram(token="1:abc", mode="webhook", webhook_url="https://bot.example.org/tg")
    again = _telegram(token="1:abc", mode="webhook", webhook_url="https://bot.example.org/tg")
    other_token = _telegram(token="1:abd", mode="webhook", webhook_url="https://bot.example.org/tg")
    other_url = _telegram(token="1:abc", mode="webhook", webhook_url="https://bot.example.org/x")
    secret = one.webhook_secret_value
    assert secret == again.webhook_secret_value  # every process and restart agrees
    assert len(secret) >= 40 and re.fullmatch(r"[A-Za-z0-9_-]+", secret)
    assert secret not in (other_token.webhook_secret_value, other_url.webhook_secret_value)
    assert "abc" not in secret


def test_webhook_serves_the_path_of_its_url() -> None:
    hook = _telegram(mode="webhook", webhook_url="https://x.org/tg/hook/")
    assert hook.webhook_serve_path == "tg/hook"
    assert _telegram(mode="webhook", webhook_url="https://x.org/a",
                     webhook_path="/b").webhook_serve_path == "b"


def test_webhook_without_any_secret_refuses_to_start(tmp_path: Path) -> None:
    config = AppConfig.model_validate({
        "telegram": {"mode": "webhook", "webhook_url": "https://x.org/tg"},
        "database": {"url": f"sqlite:///{tmp_path / 'x.db'}"},
    })
    with pytest.raises(WebhookUnprotected):
        webhook_arguments(config)
    assert run_bot(config) == 2


def test_webhook_arguments_register_the_secret_and_serve_the_path() -> None:
    config = AppConfig.model_validate({
        "telegram": {"token": "1:abc", "mode": "webhook", "webhook_url": "https://x.org/tg/in"},
    })
    arguments = webhook_arguments(config)
    assert arguments["url_path"] == "tg/in"
    assert arguments["secret_token"] == config.telegram.webhook_secret_value != ""


def _load(tmp_path: Path, body: str, environ: dict[str, str] | None = None) -> AppConfig:
    path = tmp_path / "c.toml"
    path.write_text(body, encoding="utf-8")
    return load_config(path, environ=environ or {})


def test_object_storage_needs_a_bucket_and_credentials(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        _load(tmp_path, '[storage]\nbackend = "s3"\n')
    message = str(err.value)
    for key in ("bucket", "access_key_id", "secret_access_key"):
        assert f'[storage.s3] {key}: required when backend = "s3"' in message
    assert "INSPECTBOT_S3_SECRET_ACCESS_KEY" in message


def test_object_storage_credentials_come_from_the_environment(tmp_path: Path) -> None:
    config = _load(
        tmp_path,
        '[storage]\nbackend = "s3"\n[storage.s3]\nbucket = "county-evidence-1250000000"\n'
        'endpoint_url = "https://cos.ap-guangzhou.myqcloud.com/"\nregion = "ap-guangzhou"\n'
        'prefix = "/yingjian//evidence"\n',
        environ={"INSPECTBOT_S3_ACCESS_KEY_ID": "AKID", "INSPECTBOT_S3_SECRET_ACCESS_KEY": "sk-1"},
    )
    s3 = config.storage.s3
    assert (s3.access_key_id, s3.secret_access_key.get_secret_value()) == ("AKID", "sk-1")
    assert s3.endpoint == "https://cos.ap-guangzhou.myqcloud.com"
    assert s3.prefix == "yingjian/evidence/" and s3.addressing_style == "virtual"
    assert "sk-1" not in repr(config) and "sk-1" in config.secrets


def test_a_local_backend_leaves_the_s3_section_unchecked_for_completeness() -> None:
    assert load_config(None, environ={}).storage.backend == "local"


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ('[storage.s3]\nendpoint_url = "oss-cn-hangzhou.aliyuncs.com"\n',
         "[storage.s3] endpoint_url: not an http(s) address"),
        ('[storage.s3]\nendpoint_url = "https://minio.example.org/evidence"\n',
         "[storage.s3] endpoint_url: the endpoint is a scheme and a host only"),
        ('[storage.s3]\nbucket = "Evidence_Bucket"\n', "[storage.s3] bucket: 3 to 63"),
        ('[storage.s3]\nprefix = "a/../b"\n', "[storage.s3] prefix: A-Z"),
        ('[storage.s3]\naddressing_style = "dns"\n', "[storage.s3] addressing_style"),
        ('[storage.s3]\npart_size_mb = 100\n',
         "[storage.s3] part_size_mb: must not exceed multipart_threshold_mb (64)"),
        ('[storage.s3]\nca_file = "/nonexistent/ca.pem"\n', "[storage.s3] ca_file: no such file"),
        ('[storage.s3]\nendpoint_url = "http://10.0.0.5:9000"\n',
         "[storage.s3] addressing_style: \"virtual\" puts the bucket in the host name"),
        ('[storage.s3]\nbucket = "county.evidence"\n',
         "[storage.s3] addressing_style: a bucket name with dots"),
        ('[storage]\nbackend = "ftp"\n', "[storage] backend"),
        ('[reminders.delivery]\nmax_attempts = 0\n', "[reminders.delivery] max_attempts"),
        ('[telegram]\nmode = "webhook"\n', "[telegram] webhook_url: webhook mode needs"),
    ],
)
def test_storage_mistakes_name_the_table_and_key(
    tmp_path: Path, body: str, fragment: str
) -> None:
    with pytest.raises(ConfigError) as err:
        _load(tmp_path, body)
    assert fragment in str(err.value)
    assert "Value error" not in str(err.value)
