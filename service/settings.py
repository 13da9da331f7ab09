"""Every setting PeerNudge reads, from the environment only.

Each setting is listed, with its default, in the README. A malformed value
raises :class:`SettingsError` naming the variable, so start-up stops with a
message an operator can act on instead of failing later in a job.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import MISSING, dataclass, field, fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import phonenumbers

from service.discretion import discretion_problems
from service.flag_kinds import ALWAYS_URGENT, MAY_BE_MARKED_URGENT
from service.gsm7 import is_gsm7, to_gsm7
from service.private_files import create_private_file, private_dir


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names the variable."""


TWILIO_DEFAULT_API_BASE_URL = "https://api.twilio.com"
GATEWAYS = ("simulator", "twilio")


@dataclass(frozen=True)
class Settings:
    instance_dir: Path
    database_url: str
    redis_url: str | None
    secret_key: str = field(repr=False)
    sms_gateway: str = "simulator"
    twilio_account_sid: str | None = None
    twilio_auth_token: str | None = field(default=None, repr=False)
    twilio_from_number: str | None = None
    twilio_messaging_service_sid: str | None = None
    twilio_api_base_url: str = TWILIO_DEFAULT_API_BASE_URL
    public_base_url: str = "http://localhost:5000"
    program_name: str = "PeerNudge"
    program_discreet: bool = True
    default_region: str = "US"
    queue_name: str = "nudges"
    port: int = 5000
    planner_interval_seconds: int = 60
    planner_lookahead_seconds: int = 120
    missed_grace_minutes: int = 30
    sending_timeout_seconds: int = 300
    sms_max_per_second: float = 1.0
    daily_message_cap: int = 3
    window_start: str = "08:00"
    window_end: str = "20:00"
    message_validity_seconds: int = 3600
    login_rate_limit: bool = True
    session_lifetime_hours: int = 12
    trusted_proxy_hops: int = 0
    log_format: str = "text"
    log_level: str = "INFO"
    metrics_token: str | None = field(default=None, repr=False)
    redis_sentinels: tuple[tuple[str, int], ...] = ()
    redis_sentinel_master: str = "mymaster"
    redis_password: str | None = field(default=None, repr=False)
    db_pool_size: int = 5
    db_max_overflow: int = 10
    alert_queue_name: str = "alerts"
    inbound_queue_name: str = "inbound"
    alert_escalate_after_seconds: int = 600
    alert_repeats: int = 3
    alert_resolve_within_seconds: int = 3600
    urgent_flag_kinds: tuple[str, ...] = ()
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_username: str | None = None
    smtp_password: str | None = field(default=None, repr=False)
    smtp_starttls: bool = True
    mail_from: str = "peernudge@localhost"
    crisis_line_name: str | None = None
    crisis_line_call: str | None = None
    crisis_line_text: str | None = None
    crisis_line_text_word: str | None = None
    emergency_number: str | None = None
    follow_up_days: int = 180
    follow_up_window_days: int = 30
    small_count_threshold: int = 5

    def with_overrides(self, **overrides: Any) -> Settings:
        """A copy with some values replaced (used by tests and the launcher)."""
        return replace(self, **overrides)

    @property
    def twilio_configured(self) -> bool:
        return bool(self.twilio_account_sid and self.twilio_auth_token)


# Every default is the one written in Settings above; load_settings takes them from here.
DEFAULTS: dict[str, Any] = {f.name: f.default for f in fields(Settings) if f.default is not MISSING}


def _text(env: Mapping[str, str], name: str, default: str | None = None) -> str | None:
    value = env.get(name, "").strip()
    return value or default


def env_int(env: Mapping[str, str], name: str, default: int, minimum: int = 0) -> int:
    raw = _text(env, name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, got {raw!r}") from None
    if value < minimum:
        raise SettingsError(f"{name} must be at least {minimum}, got {value}")
    return value


def env_float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = _text(env, name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number, got {raw!r}") from None
    if not value > 0:
        raise SettingsError(f"{name} must be greater than 0, got {raw!r}")
    return value


def env_bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = _text(env, name)
    if raw is None:
        return default
    lowered = raw.lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"{name} must be true or false, got {raw!r}")


def env_url(env: Mapping[str, str], name: str, default: str | None, schemes: tuple[str, ...]):
    raw = _text(env, name, default)
    if raw is None:
        return None
    parsed = urlparse(raw)
    if parsed.scheme not in schemes:
        allowed = ", ".join(f"{s}://" for s in schemes)
        raise SettingsError(f"{name} must start with one of {allowed}, got {raw!r}")
    if parsed.scheme in ("http", "https") and not parsed.netloc:
        raise SettingsError(f"{name} must include a host, got {raw!r}")
    return raw.rstrip("/") if parsed.scheme in ("http", "https") else raw


def env_clock(env: Mapping[str, str], name: str, default: str) -> str:
    raw = _text(env, name) or default
    hours, _, minutes = raw.partition(":")
    if not (hours.isdigit() and minutes.isdigit() and int(hours) < 24 and int(minutes) < 60):
        raise SettingsError(f"{name} must be a 24-hour time like 08:00, got {raw!r}")
    return f"{int(hours):02d}:{int(minutes):02d}"


def _database_url(env: Mapping[str, str], instance_dir: Path) -> str:
    raw = _text(env, "DATABASE_URL")
    if raw is None:
        return f"sqlite:///{instance_dir / 'peernudge.db'}"
    scheme = raw.split("://", 1)[0]
    if "://" not in raw or not scheme.startswith(("sqlite", "postgresql")):
        raise SettingsError(
            f"DATABASE_URL must be a sqlite:/// or postgresql+psycopg:// URL, got {scheme!r}"
        )
    return raw


def _secret_key(env: Mapping[str, str], instance_dir: Path) -> str:
    """SECRET_KEY from the environment, or one generated once for development."""
    raw = _text(env, "SECRET_KEY")
    if raw is not None:
        if len(raw) < 16:
            raise SettingsError("SECRET_KEY must be at least 16 characters long")
        return raw
    key_file = instance_dir / "secret_key"
    private_dir(instance_dir, tighten=True)
    if not key_file.exists():
        create_private_file(key_file, secrets.token_urlsafe(48))  # or another process did
    return key_file.read_text().strip()


LOG_LEVELS = ("debug", "info", "warning", "error")
LOG_FORMATS = ("text", "json")


def env_choice(env: Mapping[str, str], name: str, default: str, choices: tuple[str, ...]) -> str:
    raw = _text(env, name) or default
    value = raw.lower()
    if value not in choices:
        raise SettingsError(f"{name} must be one of {', '.join(choices)}, got {raw!r}")
    return value


def _metrics_token(env: Mapping[str, str]) -> str | None:
    token = _text(env, "METRICS_TOKEN")
    if token is not None and len(token) < 16:
        raise SettingsError("METRICS_TOKEN must be at least 16 characters long")
    return token


def _urgent_flag_kinds(env: Mapping[str, str]) -> tuple[str, ...]:
    """URGENT_FLAG_KINDS: flag kinds this program alerts on like a crisis, comma-separated."""
    raw = _text(env, "URGENT_FLAG_KINDS")
    if raw is None:
        return ()
    kinds = tuple(dict.fromkeys(k.strip().lower() for k in raw.split(",") if k.strip()))
    unknown = [k for k in kinds if k not in (*ALWAYS_URGENT, *MAY_BE_MARKED_URGENT)]
    if unknown:
        raise SettingsError(
            f"URGENT_FLAG_KINDS may name {', '.join(MAY_BE_MARKED_URGENT)} "
            f"(a missed follow-up is urgent by itself), got {', '.join(unknown)}"
        )
    return tuple(k for k in kinds if k not in ALWAYS_URGENT)


def _sentinels(env: Mapping[str, str]) -> tuple[tuple[str, int], ...]:
    """REDIS_SENTINELS as host:port pairs, comma-separated."""
    raw = _text(env, "REDIS_SENTINELS")
    if raw is None:
        return ()
    sentinels = []
    for item in raw.split(","):
        host, _, port = item.strip().rpartition(":")
        if not host or not port.isdigit():
            raise SettingsError(
                f"REDIS_SENTINELS must be host:port pairs separated by commas, got {item!r}"
            )
        sentinels.append((host.strip("[]"), int(port)))
    return tuple(sentinels)


def _mail_from(env: Mapping[str, str]) -> str:
    address = _text(env, "MAIL_FROM") or DEFAULTS["mail_from"]
    if "@" not in address or any(c in address for c in "\r\n"):
        raise SettingsError(f"MAIL_FROM must be an email address, got {address!r}")
    return address


def _gateway(env: Mapping[str, str]) -> str:
    gateway = (_text(env, "SMS_GATEWAY") or DEFAULTS["sms_gateway"]).lower()
    if gateway not in GATEWAYS:
        raise SettingsError(f"SMS_GATEWAY must be one of {', '.join(GATEWAYS)}, got {gateway!r}")
    return gateway


def _region(env: Mapping[str, str]) -> str:
    region = (_text(env, "DEFAULT_REGION") or DEFAULTS["default_region"]).upper()
    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise SettingsError(f"DEFAULT_REGION must be a two-letter region code, got {region!r}")
    return region


DIALLABLE = re.compile(r"^\+?\d[\d -]{1,14}\d$")  # 988, 116 123, 0800-0113, +44 ...
TEXT_WORD = re.compile(r"^[A-Z]{1,10}$")
# The template check renders the crisis texts with values this long (service/template_check.py).
MAX_CRISIS_LINE_NAME = 32


def env_diallable(env: Mapping[str, str], name: str) -> str | None:
    """A number or short code to call or text: digits, spaces, hyphens, a leading +."""
    raw = _text(env, name)
    if raw is not None and not DIALLABLE.match(raw):
        raise SettingsError(
            f"{name} must be a number or short code like 988 or 116 123, got {raw!r}"
        )
    return raw


def _crisis_line_name(env: Mapping[str, str]) -> str | None:
    raw = _text(env, "CRISIS_LINE_NAME")
    if raw is not None and (len(raw) > MAX_CRISIS_LINE_NAME or not is_gsm7(to_gsm7(raw))):
        raise SettingsError(
            f"CRISIS_LINE_NAME must be at most {MAX_CRISIS_LINE_NAME} plain characters "
            f"(no emoji), got {raw!r}"
        )
    return raw


def _crisis_line(env: Mapping[str, str]) -> dict[str, str | None]:
    """The program's own crisis line and emergency number (None: the reviewed file's)."""
    line = {
        "crisis_line_name": _crisis_line_name(env),
        "crisis_line_call": env_diallable(env, "CRISIS_LINE_CALL"),
        "crisis_line_text": env_diallable(env, "CRISIS_LINE_TEXT"),
        "crisis_line_text_word": _text(env, "CRISIS_LINE_TEXT_WORD"),
        "emergency_number": env_diallable(env, "EMERGENCY_NUMBER"),
    }
    word = line["crisis_line_text_word"]
    if word is not None and not TEXT_WORD.match(word):
        raise SettingsError(f"CRISIS_LINE_TEXT_WORD must be one word in capitals, got {word!r}")
    if line["crisis_line_name"] and not (line["crisis_line_call"] or line["crisis_line_text"]):
        raise SettingsError("CRISIS_LINE_NAME needs CRISIS_LINE_CALL or CRISIS_LINE_TEXT")
    if word and not line["crisis_line_text"]:
        raise SettingsError("CRISIS_LINE_TEXT_WORD needs CRISIS_LINE_TEXT")
    return line


def _check_twilio(settings: Settings) -> None:
    if settings.sms_gateway != "twilio":
        return
    missing = [
        name
        for name, value in (
            ("TWILIO_ACCOUNT_SID", settings.twilio_account_sid),
            ("TWILIO_AUTH_TOKEN", settings.twilio_auth_token),
        )
        if not value
    ]
    if not (settings.twilio_from_number or settings.twilio_messaging_service_sid):
        missing.append("TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID")
    if missing:
        raise SettingsError("SMS_GATEWAY=twilio needs " + ", ".join(missing))


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Read and validate every setting; raise SettingsError on the first bad one."""
    env = os.environ if env is None else env
    port = env_int(env, "PORT", DEFAULTS["port"], minimum=1)
    instance_dir = Path(_text(env, "INSTANCE_DIR") or "instance").resolve()
    settings = Settings(
        instance_dir=instance_dir,
        database_url=_database_url(env, instance_dir),
        redis_url=env_url(env, "REDIS_URL", None, ("redis", "rediss", "unix")),
        secret_key=_secret_key(env, instance_dir),
        sms_gateway=_gateway(env),
        twilio_account_sid=_text(env, "TWILIO_ACCOUNT_SID"),
        twilio_auth_token=_text(env, "TWILIO_AUTH_TOKEN"),
        twilio_from_number=_text(env, "TWILIO_FROM_NUMBER"),
        twilio_messaging_service_sid=_text(env, "TWILIO_MESSAGING_SERVICE_SID"),
        twilio_api_base_url=env_url(
            env, "TWILIO_API_BASE_URL", DEFAULTS["twilio_api_base_url"], ("http", "https")
        ),
        public_base_url=env_url(env, "PUBLIC_BASE_URL", None, ("http", "https"))
        or f"http://localhost:{port}",
        program_name=_text(env, "PROGRAM_NAME") or DEFAULTS["program_name"],
        program_discreet=env_bool(env, "PROGRAM_DISCREET", DEFAULTS["program_discreet"]),
        default_region=_region(env),
        queue_name=_text(env, "QUEUE_NAME") or DEFAULTS["queue_name"],
        port=port,
        planner_interval_seconds=env_int(
            env, "PLANNER_INTERVAL_SECONDS", DEFAULTS["planner_interval_seconds"], minimum=1
        ),
        planner_lookahead_seconds=env_int(
            env, "PLANNER_LOOKAHEAD_SECONDS", DEFAULTS["planner_lookahead_seconds"]
        ),
        missed_grace_minutes=env_int(
            env, "MISSED_GRACE_MINUTES", DEFAULTS["missed_grace_minutes"], minimum=1
        ),
        sending_timeout_seconds=env_int(
            env, "SENDING_TIMEOUT_SECONDS", DEFAULTS["sending_timeout_seconds"], minimum=10
        ),
        sms_max_per_second=env_float(env, "SMS_MAX_PER_SECOND", DEFAULTS["sms_max_per_second"]),
        daily_message_cap=env_int(
            env, "DAILY_MESSAGE_CAP", DEFAULTS["daily_message_cap"], minimum=1
        ),
        window_start=env_clock(env, "SEND_WINDOW_START", DEFAULTS["window_start"]),
        window_end=env_clock(env, "SEND_WINDOW_END", DEFAULTS["window_end"]),
        message_validity_seconds=env_int(
            env, "MESSAGE_VALIDITY_SECONDS", DEFAULTS["message_validity_seconds"], minimum=1
        ),
        login_rate_limit=env_bool(env, "LOGIN_RATE_LIMIT", DEFAULTS["login_rate_limit"]),
        session_lifetime_hours=env_int(
            env, "SESSION_LIFETIME_HOURS", DEFAULTS["session_lifetime_hours"], minimum=1
        ),
        trusted_proxy_hops=env_int(env, "TRUSTED_PROXY_HOPS", DEFAULTS["trusted_proxy_hops"]),
        log_format=env_choice(env, "LOG_FORMAT", DEFAULTS["log_format"], LOG_FORMATS),
        log_level=env_choice(env, "LOG_LEVEL", DEFAULTS["log_level"], LOG_LEVELS).upper(),
        metrics_token=_metrics_token(env),
        redis_sentinels=_sentinels(env),
        redis_sentinel_master=_text(env, "REDIS_SENTINEL_MASTER")
        or DEFAULTS["redis_sentinel_master"],
        redis_password=_text(env, "REDIS_PASSWORD"),
        db_pool_size=env_int(env, "DB_POOL_SIZE", DEFAULTS["db_pool_size"], minimum=1),
        db_max_overflow=env_int(env, "DB_MAX_OVERFLOW", DEFAULTS["db_max_overflow"]),
        alert_queue_name=_text(env, "ALERT_QUEUE_NAME") or DEFAULTS["alert_queue_name"],
        inbound_queue_name=_text(env, "INBOUND_QUEUE_NAME") or DEFAULTS["inbound_queue_name"],
        alert_escalate_after_seconds=env_int(
            env,
            "ALERT_ESCALATE_AFTER_SECONDS",
            DEFAULTS["alert_escalate_after_seconds"],
            minimum=10,
        ),
        alert_repeats=env_int(env, "ALERT_REPEATS", DEFAULTS["alert_repeats"], minimum=1),
        alert_resolve_within_seconds=env_int(
            env,
            "ALERT_RESOLVE_WITHIN_SECONDS",
            DEFAULTS["alert_resolve_within_seconds"],
            minimum=60,
        ),
        urgent_flag_kinds=_urgent_flag_kinds(env),
        smtp_host=_text(env, "SMTP_HOST"),
        smtp_port=env_int(env, "SMTP_PORT", DEFAULTS["smtp_port"], minimum=1),
        smtp_username=_text(env, "SMTP_USERNAME"),
        smtp_password=_text(env, "SMTP_PASSWORD"),
        smtp_starttls=env_bool(env, "SMTP_STARTTLS", DEFAULTS["smtp_starttls"]),
        mail_from=_mail_from(env),
        **_crisis_line(env),
        follow_up_days=env_int(env, "FOLLOW_UP_DAYS", 180, minimum=1),
        follow_up_window_days=env_int(env, "FOLLOW_UP_WINDOW_DAYS", 30, minimum=1),
        small_count_threshold=env_int(env, "SMALL_COUNT_THRESHOLD", 5),
    )
    _check_twilio(settings)
    _check_program_name(settings)
    return settings


def _check_program_name(settings: Settings) -> None:
    """The program's name is in every text: with PROGRAM_DISCREET on it must be neutral."""
    if settings.program_discreet and discretion_problems(settings.program_name):
        raise SettingsError(
            f"PROGRAM_NAME {settings.program_name!r} would show on lock screens and says what "
            "the texts are about; choose a neutral name or set PROGRAM_DISCREET=false"
        )
    name = settings.crisis_line_name or ""
    if settings.program_discreet and discretion_problems(name):
        raise SettingsError(
            f"CRISIS_LINE_NAME {name!r} is in crisis and HELP texts and says what the texts "
            "are about; choose a neutral name or set PROGRAM_DISCREET=false"
        )


def setting_names() -> list[str]:
    """Field names, for tests that check the README documents every setting."""
    return [f.name for f in fields(Settings)]
