import re
from pathlib import Path

import pytest

from service.settings import SettingsError, load_settings, setting_names

README = Path(__file__).resolve().parent.parent / "README.md"


def env(tmp_path, **values):
    return {"INSTANCE_DIR": str(tmp_path), **values}


def test_defaults_are_the_embedded_stack(tmp_path):
    settings = load_settings(env(tmp_path))
    assert settings.database_url == f"sqlite:///{tmp_path / 'peernudge.db'}"
    assert settings.sms_gateway == "simulator"
    assert settings.redis_url is None
    assert settings.default_region == "US"
    assert (settings.session_lifetime_hours, settings.trusted_proxy_hops) == (12, 0)


def test_secret_key_is_generated_once_and_kept(tmp_path):
    first = load_settings(env(tmp_path)).secret_key
    second = load_settings(env(tmp_path)).secret_key
    assert first == second and len(first) >= 32
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SMS_GATEWAY", "carrier-pigeon"),
        ("REDIS_URL", "http://localhost:6379"),
        ("DATABASE_URL", "mysql://x"),
        ("PORT", "eighty"),
        ("SMS_MAX_PER_SECOND", "-1"),
        ("DAILY_MESSAGE_CAP", "0"),
        ("PROGRAM_DISCREET", "maybe"),
        ("DEFAULT_REGION", "XX"),
        ("SEND_WINDOW_START", "25:00"),
        ("PUBLIC_BASE_URL", "ftp://example.org"),
        ("TWILIO_API_BASE_URL", "not a url"),
        ("SECRET_KEY", "short"),
        ("LOG_FORMAT", "xml"),
        ("LOG_LEVEL", "loud"),
        ("METRICS_TOKEN", "short"),
        ("REDIS_SENTINELS", "sentinel-a:26379,sentinel-b"),
        ("DB_POOL_SIZE", "0"),
        ("CRISIS_LINE_CALL", "call us"),
        ("CRISIS_LINE_TEXT", "9" * 17),
        ("EMERGENCY_NUMBER", "nine-one-one"),
        ("CRISIS_LINE_NAME", "N" * 33),
        ("SESSION_LIFETIME_HOURS", "0"),
        ("SESSION_LIFETIME_HOURS", "half a day"),
        ("TRUSTED_PROXY_HOPS", "-1"),
        ("TRUSTED_PROXY_HOPS", "one"),
    ],
)
def test_a_malformed_value_names_the_variable(tmp_path, name, value):
    with pytest.raises(SettingsError, match=name):
        load_settings(env(tmp_path, **{name: value}))


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"CRISIS_LINE_NAME": "County Line"}, "CRISIS_LINE_NAME needs CRISIS_LINE_CALL"),
        ({"CRISIS_LINE_TEXT_WORD": "HELLO"}, "CRISIS_LINE_TEXT_WORD needs CRISIS_LINE_TEXT"),
        ({"CRISIS_LINE_TEXT": "741741", "CRISIS_LINE_TEXT_WORD": "hi there"}, "one word"),
        ({"CRISIS_LINE_CALL": "988", "CRISIS_LINE_NAME": "Addiction Line"}, "PROGRAM_DISCREET"),
    ],
)
def test_the_programs_crisis_line_must_be_complete_and_discreet(tmp_path, values, message):
    with pytest.raises(SettingsError, match=message):
        load_settings(env(tmp_path, **values))


def test_the_programs_crisis_line_is_read(tmp_path):
    settings = load_settings(
        env(
            tmp_path,
            CRISIS_LINE_NAME="County Crisis Line",
            CRISIS_LINE_CALL="+1 800 555 0199",
            CRISIS_LINE_TEXT="741741",
            CRISIS_LINE_TEXT_WORD="HOME",
            EMERGENCY_NUMBER="911",
        )
    )
    assert (settings.crisis_line_call, settings.crisis_line_text_word) == (
        "+1 800 555 0199",
        "HOME",
    )
    assert load_settings(env(tmp_path)).crisis_line_call is None  # the reviewed file's line


def test_twilio_gateway_needs_credentials_and_a_sender(tmp_path):
    with pytest.raises(SettingsError) as error:
        load_settings(env(tmp_path, SMS_GATEWAY="twilio", TWILIO_ACCOUNT_SID="AC1"))
    assert "TWILIO_AUTH_TOKEN" in str(error.value)
    assert "TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID" in str(error.value)


def test_twilio_gateway_with_everything_loads(tmp_path):
    settings = load_settings(
        env(
            tmp_path,
            SMS_GATEWAY="twilio",
            TWILIO_ACCOUNT_SID="AC123",
            TWILIO_AUTH_TOKEN="secret",
            TWILIO_MESSAGING_SERVICE_SID="MG123",
            TWILIO_API_BASE_URL="http://127.0.0.1:9999/",
        )
    )
    assert settings.twilio_api_base_url == "http://127.0.0.1:9999"
    assert "secret" not in repr(settings)


def test_the_readme_documents_every_environment_variable():
    source = (Path(__file__).resolve().parent.parent / "service" / "settings.py").read_text()
    variables = set(re.findall(r'"([A-Z][A-Z0-9_]{2,})"', source)) - {"GSM"}
    readme = README.read_text()
    missing = sorted(v for v in variables if f"`{v}`" not in readme)
    assert not missing, f"README does not document {missing}"
    assert setting_names()  # the settings object exists and lists its fields


def test_production_settings_are_read(tmp_path):
    settings = load_settings(
        env(
            tmp_path,
            REDIS_SENTINELS="10.0.0.1:26379, [::1]:26380",
            REDIS_SENTINEL_MASTER="nudges",
            LOG_FORMAT="JSON",
            LOG_LEVEL="warning",
            DB_POOL_SIZE="20",
        )
    )
    assert settings.redis_sentinels == (("10.0.0.1", 26379), ("::1", 26380))
    assert settings.redis_sentinel_master == "nudges"
    assert (settings.log_format, settings.log_level) == ("json", "WARNING")
    assert settings.db_pool_size == 20


def test_a_program_name_that_reveals_treatment_is_refused_while_discreet(tmp_path):
    with pytest.raises(SettingsError, match="PROGRAM_NAME"):
        load_settings(env(tmp_path, PROGRAM_NAME="Hope Recovery Texts"))
    allowed = load_settings(env(tmp_path, PROGRAM_NAME="Hope Recovery", PROGRAM_DISCREET="false"))
    assert allowed.program_name == "Hope Recovery"
    assert load_settings(env(tmp_path, PROGRAM_NAME="Hope Line")).program_name == "Hope Line"


def test_a_program_may_mark_other_flag_kinds_urgent(tmp_path):
    settings = load_settings(env(tmp_path, URGENT_FLAG_KINDS=" Silence, low_mood,silence "))
    assert settings.urgent_flag_kinds == ("silence", "low_mood")
    assert load_settings(env(tmp_path)).urgent_flag_kinds == ()
    with pytest.raises(SettingsError, match=r"URGENT_FLAG_KINDS.*got sadness"):
        load_settings(env(tmp_path, URGENT_FLAG_KINDS="silence,sadness"))
    with pytest.raises(SettingsError, match=r"URGENT_FLAG_KINDS.*got follow_up"):
        load_settings(env(tmp_path, URGENT_FLAG_KINDS="follow_up"))
    # crisis kinds are urgent anyway: naming them is harmless
    assert load_settings(env(tmp_path, URGENT_FLAG_KINDS="crisis,reply")).urgent_flag_kinds == (
        "reply",
    )
