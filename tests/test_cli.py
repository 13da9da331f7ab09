"""The peernudge command, run as a user runs it: a subprocess with an environment."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.fixture
def cli_env(tmp_path: Path, redis_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "SMS_"))}
    env.update(INSTANCE_DIR=str(tmp_path / "instance"), REDIS_URL=redis_url)
    env.pop("DATABASE_URL", None)
    return env


def peernudge(env: dict[str, str], *args: str, input: str | None = None):
    return subprocess.run(
        [sys.executable, "-m", "peernudge.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        input=input,
        timeout=60,
    )


def ok(env, *args) -> str:
    result = peernudge(env, *args)
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture
def enrolled(cli_env):
    ok(cli_env, "db", "upgrade")
    ok(
        cli_env,
        "specialist",
        "create",
        "--email",
        "Jordan@Example.org",
        "--name",
        "Jordan Rivera",
        "--password",
        "long enough password",
    )
    return cli_env


def add_peer(env, *extra: str):
    return peernudge(
        env,
        "peer",
        "add",
        "--specialist",
        "jordan@example.org",
        "--phone",
        "(212) 555-0134",
        "--name",
        "Sam",
        "--goal",
        "walk after dinner",
        "--days",
        "mon,wed,fri",
        "--time",
        "18:30",
        *extra,
    )


def test_peer_add_then_show_as_json(enrolled):
    result = add_peer(enrolled, "--json")
    assert result.returncode == 0, result.stderr
    shown = json.loads(ok(enrolled, "peer", "show", "212-555-0134", "--json"))
    assert shown["phone"] == "+12125550134"
    assert shown["name"] == "Sam"
    assert shown["timezone"] == "America/New_York"  # from the number
    assert shown["language"] == "en"
    assert shown["status"] == "active"
    schedule = shown["goals"][0]["schedules"][0]
    assert (shown["goals"][0]["text"], schedule["days"], schedule["times"]) == (
        "walk after dinner",
        "mon,wed,fri",
        ["18:30"],
    )
    assert shown["next_nudge_at"]  # the welcome text is planned


def test_peer_list(enrolled):
    add_peer(enrolled)
    listed = json.loads(ok(enrolled, "peer", "list", "--json"))
    assert [p["phone"] for p in listed] == ["+12125550134"]
    assert "+12125550134" in ok(enrolled, "peer", "list")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (["--phone", "555-01"], "'555-01' is not a valid phone number"),
        (["--tz", "Mars/Olympus"], "time zone 'Mars/Olympus'"),
        (["--time", "22:00"], "22:00 is outside the hours"),
        (["--days", "someday"], "days 'someday' not understood"),
        (["--specialist", "nobody@example.org"], "no specialist with email nobody@example.org"),
    ],
)
def test_peer_add_errors_are_one_line_and_exit_non_zero(enrolled, change, message):
    args = [
        "peer",
        "add",
        "--specialist",
        "jordan@example.org",
        "--phone",
        "(212) 555-0134",
        "--name",
        "Sam",
        "--goal",
        "walk",
        "--days",
        "daily",
        "--time",
        "09:00",
    ]
    flag, value = change
    if flag in args:
        args[args.index(flag) + 1] = value
    else:
        args += [flag, value]
    result = peernudge(enrolled, *args)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("peernudge: ")
    assert message in lines[0]
    assert "Traceback" not in result.stderr


def test_a_duplicate_phone_is_refused(enrolled):
    assert add_peer(enrolled).returncode == 0
    again = add_peer(enrolled)
    assert again.returncode != 0 and "already enrolled" in again.stderr


def test_show_an_unknown_peer(enrolled):
    result = peernudge(enrolled, "peer", "show", "+12125550199")
    assert result.returncode != 0 and "no peer with phone" in result.stderr


def test_specialist_create_refuses_a_duplicate_and_a_short_password(enrolled):
    again = peernudge(
        enrolled,
        "specialist",
        "create",
        "--email",
        "jordan@example.org",
        "--name",
        "J",
        "--password",
        "long enough password",
    )
    assert again.returncode != 0 and "already exists" in again.stderr
    short = peernudge(
        enrolled,
        "specialist",
        "create",
        "--email",
        "x@example.org",
        "--name",
        "X",
        "--password",
        "short",
    )
    assert short.returncode != 0 and "at least 10 characters" in short.stderr


def test_specialist_create_refuses_a_common_password(enrolled):
    common = peernudge(
        enrolled,
        "specialist",
        "create",
        "--email",
        "x@example.org",
        "--name",
        "X",
        "--password",
        "Password1234",
    )
    assert common.returncode != 0 and "most common" in common.stderr


def test_specialist_create_prompts_for_the_password(cli_env):
    ok(cli_env, "db", "upgrade")
    result = peernudge(
        cli_env,
        "specialist",
        "create",
        "--email",
        "p@example.org",
        "--name",
        "P",
        "--json",
        input="a fine password\na fine password\n",
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout[result.stdout.index("{") :])["email"] == "p@example.org"


def test_a_bad_setting_stops_the_command_with_its_name(cli_env):
    result = peernudge({**cli_env, "SMS_GATEWAY": "pigeon"}, "peer", "list")
    assert result.returncode != 0
    assert "SMS_GATEWAY" in result.stderr and "Traceback" not in result.stderr


def test_planner_once_plans_and_reports(enrolled):
    add_peer(enrolled)
    report = json.loads(ok(enrolled, "planner", "--once", "--json"))
    assert set(report) == {"planned", "reconciled", "alert_notifications", "digests"}


def test_specialist_create_with_a_phone_stores_it_in_e164_and_refuses_a_bad_one(enrolled):
    args = ["specialist", "create", "--email", "casey@example.org", "--name", "Casey Morgan"]
    args += ["--password", "long enough password"]
    report = json.loads(ok(enrolled, *args, "--phone", "(212) 555-0102", "--json"))
    assert report["phone"] == "+12125550102"
    bad = peernudge(enrolled, *args[:3], "other@example.org", *args[4:], "--phone", "555")
    assert bad.returncode != 0 and "not a valid phone number" in bad.stderr
