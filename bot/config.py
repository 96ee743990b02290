"""Configuration: one TOML file, one pydantic model per section, secrets from the environment."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import tomllib
from datetime import time
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

ENV_TOKEN = "INSPECTBOT_TOKEN"
ENV_DATABASE_URL = "INSPECTBOT_DATABASE_URL"
ENV_CONFIG = "INSPECTBOT_CONFIG"
# Object storage credentials: kept out of config.toml where the environment can carry them.
ENV_S3_ACCESS_KEY_ID = "INSPECTBOT_S3_ACCESS_KEY_ID"
ENV_S3_SECRET_ACCESS_KEY = "INSPECTBOT_S3_SECRET_ACCESS_KEY"
ENV_S3_SESSION_TOKEN = "INSPECTBOT_S3_SESSION_TOKEN"


class ConfigError(Exception):
    """A configuration mistake, phrased so the operator can find and fix it."""


class SettingError(ValueError):
    """Raised by a section's own check: which keys of that section are wrong, and how.

    A check that looks at several keys at once still names each of them, so the operator
    reads `[storage.s3] bucket: …` rather than a sentence about the whole section.
    """

    def __init__(self, *problems: tuple[str, str]) -> None:
        super().__init__("; ".join(f"{key}: {what}" for key, what in problems))
        self.problems = problems


def _known_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {value!r}") from exc
    return value


# An IANA zone name such as "Asia/Shanghai", checked against the zone database.
TimeZoneName = Annotated[str, AfterValidator(_known_zone)]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# What setWebhook accepts as secret_token; shorter than 16 is refused as guessable.
_WEBHOOK_SECRET = re.compile(r"[A-Za-z0-9_-]{16,256}")


class TelegramConfig(_Section):
    token: SecretStr = SecretStr("")
    base_url: str = ""
    base_file_url: str = ""
    mode: Literal["polling", "webhook"] = "polling"
    # The public HTTPS address Telegram posts updates to; the bot serves its path.
    webhook_url: str = ""
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = Field(default=8443, ge=1, le=65535)
    # The path this process serves, when a proxy in front of it rewrites the public one;
    # "" serves the path of webhook_url.
    webhook_path: str = ""
    # Telegram sends it with every update and the bot refuses a POST without it. "" derives
    # one from the token (see webhook_secret_value), so webhook mode is never unprotected.
    webhook_secret: SecretStr = SecretStr("")
    # A self-signed certificate on the proxy in front of the bot: its public key (PEM),
    # uploaded with setWebhook so Telegram trusts it. "" when the proxy's certificate is
    # signed by a known authority.
    webhook_certificate: str = ""
    admin_ids: list[int] = []

    @field_validator("webhook_secret")
    @classmethod
    def _secret_shape(cls, value: SecretStr) -> SecretStr:
        secret = value.get_secret_value()
        if secret and not _WEBHOOK_SECRET.fullmatch(secret):
            raise ValueError("must be 16 to 256 characters of A-Z, a-z, 0-9, _ and - "
                             "(or empty, to derive one from the token)")
        return value

    @model_validator(mode="after")
    def _webhook_address(self) -> TelegramConfig:
        if self.mode == "webhook":
            url = urlsplit(self.webhook_url)
            if url.scheme not in ("https", "http") or not url.hostname:
                raise SettingError(("webhook_url", "webhook mode needs the public address "
                                    "Telegram posts to, such as https://bot.example.org/tg"))
        return self

    @property
    def has_token(self) -> bool:
        return bool(self.token.get_secret_value())

    @property
    def webhook_secret_value(self) -> str:
        """The configured secret, or one derived from the token and the webhook address.

        Derived rather than random: every process behind one URL, and every restart,
        computes the same value without storing or sharing anything, and it changes when
        the token or the address does. Knowing it gives nothing the token does not.
        """
        configured = self.webhook_secret.get_secret_value()
        if configured:
            return configured
        if not self.has_token:
            return ""
        digest = hmac.new(self.token.get_secret_value().encode(),
                          b"inspectbot webhook\0" + self.webhook_url.encode(),
                          hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    @property
    def webhook_serve_path(self) -> str:
        """The path the webhook server answers on, without its leading slash."""
        path = self.webhook_path or urlsplit(self.webhook_url).path
        return path.strip("/")

    @property
    def bot_token(self) -> str:
        """The token, or a placeholder that a local Bot API server (the sandbox) accepts."""
        return self.token.get_secret_value() or "0:sandbox"


class DatabaseConfig(_Section):
    url: str = "sqlite:///data/inspectbot.db"


# S3's rules for bucket names (Tencent COS names end in "-<APPID>", which fits them too).
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
# Key prefixes: path-like ASCII, so a key never needs more than percent-encoding to sign.
_PREFIX = re.compile(r"[A-Za-z0-9._/-]*")


class S3Config(_Section):
    """An S3-compatible bucket for evidence: AWS, MinIO, Aliyun OSS, Tencent COS, Huawei OBS."""

    # The service's address, such as "https://s3.oss-cn-hangzhou.aliyuncs.com" or
    # "http://10.0.0.5:9000" (MinIO); "" means AWS itself, https://s3.<region>.amazonaws.com.
    endpoint_url: str = ""
    # The region the signature names; MinIO accepts "us-east-1" unless told otherwise.
    region: str = "us-east-1"
    bucket: str = ""
    # Objects are stored as <prefix><sha[:2]>/<sha>, the layout of the local store.
    prefix: str = "evidence/"
    # "virtual": https://<bucket>.<endpoint host>/<key> (AWS, OSS, COS, OBS);
    # "path": <endpoint>/<bucket>/<key> (MinIO, and any service reached by IP address).
    addressing_style: Literal["virtual", "path"] = "virtual"
    access_key_id: str = ""
    secret_access_key: SecretStr = SecretStr("")
    # Only for temporary (STS) credentials.
    session_token: SecretStr = SecretStr("")
    # true: the body's SHA-256 is part of the signature, so the service refuses bytes that
    # changed on the way; false sends UNSIGNED-PAYLOAD for services that refuse that.
    sign_payload: bool = True
    # Also send x-amz-checksum-sha256, which AWS and recent MinIO verify and keep with the
    # object; services that refuse unknown x-amz-checksum headers need false.
    checksum: bool = False
    # Larger files are sent in parts of part_size_mb, each retried on its own.
    multipart_threshold_mb: int = Field(default=64, ge=5, le=5 * 1024)
    part_size_mb: int = Field(default=16, ge=5, le=5 * 1024)
    # Transient failures (network, timeouts, 5xx, SlowDown) are tried this many times.
    max_attempts: int = Field(default=5, ge=1, le=20)
    timeout_seconds: float = Field(default=60, gt=0, le=3600)
    # A CA certificate (PEM) for a service whose certificate a private CA signed.
    ca_file: str = ""

    @field_validator("endpoint_url")
    @classmethod
    def _endpoint(cls, value: str) -> str:
        if not value:
            return value
        url = urlsplit(value)
        if url.scheme not in ("http", "https") or not url.hostname:
            raise ValueError(f"not an http(s) address: {value!r}")
        if url.path.strip("/") or url.query or url.fragment:
            raise ValueError(f"the endpoint is a scheme and a host only, such as "
                             f"https://s3.oss-cn-hangzhou.aliyuncs.com (got {value!r})")
        return value.rstrip("/")

    @field_validator("region")
    @classmethod
    def _region(cls, value: str) -> str:
        if not re.fullmatch(r"[a-z0-9-]{1,40}", value):
            raise ValueError(f"not a region name such as cn-hangzhou or us-east-1: {value!r}")
        return value

    @field_validator("bucket")
    @classmethod
    def _bucket(cls, value: str) -> str:
        if value and not _BUCKET.fullmatch(value):
            raise ValueError("3 to 63 characters of a-z, 0-9, '.' and '-', starting and "
                             f"ending with a letter or digit: {value!r}")
        return value

    @field_validator("prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        parts = [p for p in value.split("/") if p]
        if not _PREFIX.fullmatch(value) or any(p in (".", "..") for p in parts):
            raise ValueError(f"A-Z, a-z, 0-9, '.', '_', '-' and '/' only: {value!r}")
        return "".join(f"{p}/" for p in parts)

    @field_validator("ca_file")
    @classmethod
    def _ca_file(cls, value: str) -> str:
        if value and not Path(value).is_file():
            raise ValueError(f"no such file: {value!r}")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> S3Config:
        problems = []
        if self.part_size_mb > self.multipart_threshold_mb:
            problems.append(("part_size_mb", "must not exceed multipart_threshold_mb "
                                             f"({self.multipart_threshold_mb})"))
        host = urlsplit(self.endpoint).hostname or ""
        if self.addressing_style == "virtual":
            if re.fullmatch(r"[0-9.]+|\[?[0-9a-fA-F:]+\]?", host) or "." not in host:
                problems.append(("addressing_style", f"\"virtual\" puts the bucket in the "
                                 f"host name, which {host!r} cannot carry; use \"path\""))
            elif "." in self.bucket and self.endpoint.startswith("https:"):
                problems.append(("addressing_style", "a bucket name with dots does not match "
                                 "the service's TLS certificate as a host name; use \"path\""))
        if problems:
            raise SettingError(*problems)
        return self

    def missing(self, needed_for: str) -> list[tuple[str, str]]:
        """What a store needs and this section lacks, as (key, what to do)."""
        problems = []
        if not self.bucket:
            problems.append(("bucket", f"required {needed_for}"))
        if not self.access_key_id:
            problems.append(("access_key_id", f"required {needed_for} (in the file, or as "
                                              f"the environment variable {ENV_S3_ACCESS_KEY_ID})"))
        if not self.secret_access_key.get_secret_value():
            problems.append(("secret_access_key", f"required {needed_for} (preferably as the "
                                                  f"environment variable {ENV_S3_SECRET_ACCESS_KEY})"))
        return problems

    @property
    def endpoint(self) -> str:
        return self.endpoint_url or f"https://s3.{self.region}.amazonaws.com"


class StorageConfig(_Section):
    data_dir: Path = Path("data")
    # Where evidence files live: "local" (data_dir/evidence) or "s3" ([storage.s3]).
    backend: Literal["local", "s3"] = "local"
    s3: S3Config = S3Config()

    @model_validator(mode="after")
    def _complete(self) -> StorageConfig:
        if self.backend == "s3" and (problems := self.s3.missing('when backend = "s3"')):
            raise SettingError(*((f"s3.{key}", what) for key, what in problems))
        return self


class CampaignConfig(_Section):
    timezone: TimeZoneName = "Asia/Shanghai"
    # A deadline given as a bare date means the end of that office day.
    default_due_time: time = time(17, 30)


class BotConfig(_Section):
    default_language: Literal["zh", "en"] = "zh"
    invite_ttl_hours: int = Field(default=72, ge=1, le=24 * 60)


class ImportConfig(_Section):
    # false = strict roster: every owner must already exist (typos don't create people).
    create_people: bool = True
    # false = a unit name not on the roster is a row error naming the closest known unit
    # (县教肓局 → 县教育局); units come from the campaign file. true = such a name creates
    # a unit, as tables did before.
    create_units: bool = False
    max_rows: int = Field(default=20000, ge=1)
    # Limits for reading a table someone sent (a hostile file is refused, not endured):
    # columns holding values, XML unpacked from an .xlsx, seconds of reading.
    max_columns: int = Field(default=200, ge=10, le=16384)
    max_unpacked_mb: int = Field(default=64, ge=1, le=4096)
    max_seconds: float = Field(default=20, gt=0, le=600)


class EvidenceConfig(_Section):
    # The Bot API refuses getFile above 20 MB; raise this only behind a local Bot API
    # server (`telegram.base_url`), which lifts that limit.
    max_download_mb: int = Field(default=20, ge=1, le=2000)
    # A file is accepted when its extension (if it has a name) and its MIME type (if the
    # client sent a meaningful one) are both listed.
    allowed_extensions: list[str] = [
        "jpg", "jpeg", "png", "webp", "heic", "heif", "tif", "tiff", "gif", "bmp",
        "pdf", "doc", "docx", "xls", "xlsx", "ppt", "pptx", "wps", "et", "dps",
        "txt", "csv", "rtf", "odt", "ods", "odp",
    ]
    allowed_mime_types: list[str] = [
        "image/*", "application/pdf", "application/msword", "application/vnd.ms-excel",
        "application/vnd.ms-powerpoint", "application/vnd.openxmlformats-officedocument.*",
        "application/vnd.oasis.opendocument.*", "application/wps-office.*",
        "application/kswps", "application/kset", "application/ksdps",
        "text/plain", "text/csv", "application/rtf", "text/rtf",
    ]
    # Archives larger than this are left on the server and the path is sent instead
    # (Telegram's upload limit for bots is 50 MB).
    archive_send_limit_mb: int = Field(default=50, ge=1, le=2000)
    # Album items arrive as separate updates; wait this long after the last one.
    album_window_seconds: float = Field(default=1.5, gt=0, le=30)
    # How long the card's "upload evidence" button keeps pointing files at its task.
    upload_window_minutes: int = Field(default=10, ge=1, le=24 * 60)


class DeliveryConfig(_Section):
    """The one outbound path for unprompted messages (Telegram's documented limits)."""

    global_per_second: float = Field(default=30, gt=0, le=1000)
    private_per_second: float = Field(default=1.0, gt=0, le=1000)
    group_per_minute: int = Field(default=20, ge=1, le=60000)
    # Transient failures (network, 5xx) are retried this many times before "failed".
    max_attempts: int = Field(default=6, ge=1, le=50)
    # A claimed message is another process's to send for this long.
    lease_seconds: int = Field(default=120, ge=10, le=3600)
    # How often an idle dispatcher looks for messages other processes queued.
    poll_seconds: float = Field(default=2.0, gt=0, le=300)
    # Messages held in memory at once (claimed but not yet sent).
    max_inflight: int = Field(default=90, ge=1, le=10000)
    # Sends under way at once: on the wire, or answered and not yet recorded as sent. The
    # most a process killed in the middle of a fan-out sends twice (Telegram has no
    # idempotency key); 10 costs no throughput below about 450 ms of API latency.
    max_sending: int = Field(default=10, ge=1, le=1000)


class RemindersConfig(_Section):
    enabled: bool = True
    # Before each deadline: "3d" (same wall-clock time 3 local days earlier), "2h", "30m".
    offsets: list[str] = ["3d", "1d", "2h"]
    on_deadline: bool = True
    # Daily reminder while a task is overdue, at this local time.
    overdue_time: time = time(9, 0)
    # Days overdue before the unit leader and the leading group's chat are told (0: never).
    escalate_after_days: int = Field(default=3, ge=0, le=365)
    # Global quiet hours; a person may set their own with /settings. start == end: none.
    quiet_start: time = time(22, 0)
    quiet_end: time = time(7, 30)
    digest_time: time = time(8, 0)
    leaders_digest_time: time = time(8, 30)
    countdown_days: list[int] = [30, 14, 7, 3, 1]
    countdown_time: time = time(9, 0)
    # "Remind me tomorrow morning" means this local time.
    morning: time = time(8, 30)
    # A reminder sent more than this after its time says it comes late.
    late_after_minutes: int = Field(default=10, ge=1, le=24 * 60)
    sweep_seconds: int = Field(default=60, ge=1, le=3600)
    delivery: DeliveryConfig = DeliveryConfig()

    @field_validator("offsets")
    @classmethod
    def _offsets(cls, value: list[str]) -> list[str]:
        for item in value:
            number, unit = item[:-1], item[-1:]
            if not number.isdigit() or unit not in ("d", "h", "m") or int(number) == 0:
                raise ValueError(f"offset {item!r} is not like '3d', '2h' or '30m'")
        return value


class QuizConfig(_Section):
    # Questions in one /quiz session.
    session_length: int = Field(default=10, ge=1, le=50)
    # A person counts as ready when their mastery (0–1) reaches this.
    mastery_threshold: float = Field(default=0.8, gt=0, le=1)
    # Daily review reminder for people who have not chosen their own time.
    review_time: time = time(19, 30)
    # A /drill question waits this long for the free-text answer.
    drill_timeout_minutes: int = Field(default=30, ge=1, le=24 * 60)
    # Load the shipped starter bank at start-up when the bank is empty.
    load_starter_bank: bool = True
    # The office's own drill synonyms (YAML, the format of bot/quiz/synonyms.yaml), added
    # to the shipped list; "" uses the shipped list only.
    synonyms_file: str = ""


class ReportsConfig(_Section):
    # When the leading group's chat receives the bulletin: a five-field crontab
    # ("minute hour day month weekday") in the campaign's time zone; "" turns it off.
    bulletin_schedule: str = "30 8 * * mon"
    # Used when the campaign has no leaders' chat of its own.
    leaders_chat_id: int | None = None
    # Language of the bulletin posted to the group: "zh" or "en".
    bulletin_language: Literal["zh", "en"] = "zh"
    # Who issues the bulletin (印发单位), printed under its title; "" = 迎检工作领导小组办公室.
    bulletin_issuer: str = Field(default="", max_length=60)
    # Praise (表扬): at least this many tasks due, every one done by its deadline.
    praise_min_due: int = Field(default=3, ge=1, le=1000)
    # Criticism (通报批评): a task open this many days past its deadline (or any open task of
    # a one-vote-veto indicator past its deadline).
    criticise_after_days: int = Field(default=7, ge=0, le=365)
    # A font file with Chinese glyphs for charts; "" finds one (Noto Sans CJK, WenQuanYi,
    # Source Han) among the installed fonts.
    cjk_font: str = ""

    @field_validator("bulletin_schedule")
    @classmethod
    def _valid_crontab(cls, value: str) -> str:
        from apscheduler.triggers.cron import CronTrigger

        if value.strip():
            try:
                CronTrigger.from_crontab(value)
            except ValueError as exc:
                raise ValueError(f"not a crontab expression: {value!r} ({exc})") from exc
        return value.strip()


class FloodConfig(_Section):
    """How much one sender may ask of the bot, checked before any other work.

    Every update takes a token from its sender's bucket (the first item of an album
    takes one for the whole album); an update finding the bucket empty is dropped without
    an answer. The defaults keep a person's replies near Telegram's one message per second
    in a chat, so a flood in one chat never stalls the replies in everyone else's.
    """

    # A linked person: `burst` updates at once, then `per_minute`.
    burst: int = Field(default=8, ge=1, le=1000)
    per_minute: float = Field(default=60, gt=0, le=6000)
    # Anyone not linked, each: a few tries to redeem an invite.
    stranger_burst: int = Field(default=3, ge=1, le=1000)
    stranger_per_minute: float = Field(default=6, gt=0, le=6000)
    # All strangers together, so many new accounts cannot flood the bot either.
    strangers_burst: int = Field(default=30, ge=1, le=10000)
    strangers_per_minute: float = Field(default=60, gt=0, le=60000)
    # A stranger is told how to get an invite at most once in this many minutes.
    stranger_answer_minutes: float = Field(default=10, gt=0, le=24 * 60)
    # The office's error reports: the first comes this long after the first fault
    # (gathering what else goes wrong), then at most one per `error_digest_minutes`.
    error_gather_seconds: float = Field(default=30, ge=0, le=3600)
    error_digest_minutes: float = Field(default=10, gt=0, le=24 * 60)


class OpsConfig(_Section):
    """What operations see: /healthz and /metrics.

    In webhook mode they are served on the webhook server's own port, beside the webhook's
    path; in polling mode a small server of their own listens here.
    """

    # Polling mode only; port 0 serves nothing.
    listen: str = "127.0.0.1"
    port: int = Field(default=9464, ge=0, le=65535)
    # Each check of /healthz gets this long; a database slower than that is unreachable.
    check_timeout_seconds: float = Field(default=2.0, gt=0, le=60)
    # The outbox is lagging, and /healthz answers 503, when its oldest due message has
    # waited longer than this (a morning round of a large county takes a few minutes at
    # Telegram's 30 messages a second) ...
    outbox_lag_warn_seconds: float = Field(default=900, gt=0, le=7 * 24 * 3600)
    # ... or when more messages than this are due at once (0: no limit on the count).
    outbox_due_warn: int = Field(default=0, ge=0)


class AppConfig(_Section):
    telegram: TelegramConfig = TelegramConfig()
    database: DatabaseConfig = DatabaseConfig()
    storage: StorageConfig = StorageConfig()
    campaign: CampaignConfig = CampaignConfig()
    bot: BotConfig = BotConfig()
    import_: ImportConfig = Field(default=ImportConfig(), alias="import")
    quiz: QuizConfig = QuizConfig()
    evidence: EvidenceConfig = EvidenceConfig()
    reminders: RemindersConfig = RemindersConfig()
    reports: ReportsConfig = ReportsConfig()
    flood: FloodConfig = FloodConfig()
    ops: OpsConfig = OpsConfig()

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.campaign.timezone)

    @property
    def secrets(self) -> tuple[str, ...]:
        """Every configured secret, for the log filter: none of them may reach a log line."""
        telegram, s3 = self.telegram, self.storage.s3
        return tuple(s for s in (
            telegram.token.get_secret_value(), telegram.webhook_secret_value,
            s3.secret_access_key.get_secret_value(), s3.session_token.get_secret_value(),
        ) if s)


def _place(loc: tuple[str, ...]) -> str:
    """`[section.sub] key` for a location in the file: nested tables are sections."""
    model: type[BaseModel] = AppConfig
    sections: list[str] = []
    rest = list(loc)
    while rest:
        fields = {f.alias or name: f for name, f in model.model_fields.items()}
        field = fields.get(rest[0])
        kind = field.annotation if field is not None else None
        if not (isinstance(kind, type) and issubclass(kind, _Section)):
            break
        sections.append(rest.pop(0))
        model = kind
    if not sections:
        return ".".join(loc) or "(top level)"
    return f"[{'.'.join(sections)}] {'.'.join(rest)}".rstrip()


def _describe(error: ValidationError, source: str) -> str:
    lines = [f"{source}: invalid configuration"]
    for item in error.errors():
        loc = tuple(str(p) for p in item["loc"])
        cause = (item.get("ctx") or {}).get("error")
        if isinstance(cause, SettingError):
            lines += [f"  - {_place(loc + tuple(key.split('.')))}: {what}"
                      for key, what in cause.problems]
        elif isinstance(cause, ValueError):
            lines.append(f"  - {_place(loc)}: {cause}")  # without pydantic's "Value error, "
        else:
            lines.append(f"  - {_place(loc)}: {item['msg']}")
    return "\n".join(lines)


def load_config(path: Path | None = None, *, environ: dict[str, str] | None = None) -> AppConfig:
    """Read `path` (or defaults when None), then let the environment supply secrets."""
    env = os.environ if environ is None else environ
    raw: dict[str, object] = {}
    source = str(path) if path else "(defaults)"
    if path is not None:
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise ConfigError(f"{path}: configuration file not found") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    telegram = dict(raw.get("telegram", {}) or {})  # type: ignore[call-overload]
    database = dict(raw.get("database", {}) or {})  # type: ignore[call-overload]
    storage = dict(raw.get("storage", {}) or {})  # type: ignore[call-overload]
    given = storage.get("s3", {})
    # Not a table: left as it is, for the validation below to name.
    s3: dict[str, object] = dict(given) if isinstance(given, dict) else {}
    if env.get(ENV_TOKEN):
        telegram["token"] = env[ENV_TOKEN]
    if env.get(ENV_DATABASE_URL):
        database["url"] = env[ENV_DATABASE_URL]
    for variable, key in ((ENV_S3_ACCESS_KEY_ID, "access_key_id"),
                          (ENV_S3_SECRET_ACCESS_KEY, "secret_access_key"),
                          (ENV_S3_SESSION_TOKEN, "session_token")):
        if env.get(variable):
            s3[key] = env[variable]
    if s3 and isinstance(given, dict):
        storage["s3"] = s3
    raw = {**raw, "telegram": telegram, "database": database, "storage": storage}
    try:
        return AppConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, source)) from None


def resolve_config_path(explicit: str | None, *, environ: dict[str, str] | None = None) -> Path | None:
    env = os.environ if environ is None else environ
    if explicit:
        return Path(explicit)
    if env.get(ENV_CONFIG):
        return Path(env[ENV_CONFIG])
    default = Path("config.toml")
    return default if default.exists() else None
