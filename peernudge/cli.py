"""The ``peernudge`` command line.

Errors are one clear line on stderr and a non-zero exit; ``--json`` prints
machine-readable output where a command reports something.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import click
from rq import SimpleWorker, Worker
from sqlalchemy import select
from sqlalchemy.orm import selectinload

import workers.inbound
from peernudge.launcher import run_dev
from service import db, queueing
from service.accounts import AccountError, create_specialist
from service.demo import DEMO_EMAIL, existing_demo_password, seed_demo
from service.doctor import diagnose
from service.logs import configure_logging
from service.messages import TEMPLATES_DIR, environment
from service.models import Goal, Peer, Specialist
from service.peers import Enrolment, EnrolmentError, enrol_peer, find_peer, next_planned
from service.phones import PhoneError
from service.private_files import restrict_new_files
from service.runtime import Runtime, build_runtime, set_runtime
from service.settings import (
    DEFAULTS,
    LOG_FORMATS,
    LOG_LEVELS,
    Settings,
    SettingsError,
    env_choice,
    load_settings,
)
from service.understanding import read
from service.understanding.context import Context
from workers.alerts import escalate
from workers.digest import send_digests
from workers.planner import plan_due, roll_up_reports, run_forever
from workers.reconciler import reconcile as reconcile_once


class CliError(click.ClickException):
    """Printed as one line: ``peernudge: message``."""

    def show(self, file: Any = None) -> None:
        click.echo(f"peernudge: {self.format_message()}", err=True)


def settings() -> Settings:
    try:
        return load_settings()
    except SettingsError as error:
        raise CliError(str(error)) from None


def runtime() -> Runtime:
    value = build_runtime(settings())
    set_runtime(value)
    return value


def emit(as_json: bool, data: Any, text: str) -> None:
    click.echo(json.dumps(data, indent=2, default=str) if as_json else text)


@click.group()
def cli() -> None:
    """PeerNudge: SMS accountability nudges for peer support programs."""
    restrict_new_files()  # the database, keys and sockets it creates are the user's alone
    configure_cli_logging()


def configure_cli_logging() -> None:
    """LOG_FORMAT and LOG_LEVEL as the processes will use them; a bad value is reported
    by the command itself when it loads its settings, not here."""
    try:
        log_format = env_choice(os.environ, "LOG_FORMAT", DEFAULTS["log_format"], LOG_FORMATS)
        level = env_choice(os.environ, "LOG_LEVEL", DEFAULTS["log_level"], LOG_LEVELS).upper()
    except SettingsError:
        log_format, level = DEFAULTS["log_format"], DEFAULTS["log_level"]
    configure_logging(log_format, level)


@cli.command()
@click.option("--port", type=int, default=None, help="Web port (default: PORT or 5000).")
def dev(port: int | None) -> None:
    """Start everything on this machine: web, worker, planner, Redis, simulator."""
    config = settings()
    port = port or config.port
    config = config.with_overrides(port=port)
    sys.exit(run_dev(config, port, prepare_dev(config)))


def prepare_dev(config: Settings) -> list[str]:
    """Migrate, seed the demo caseload (simulator gateway only), and say where to look."""
    db.upgrade(config.database_url)
    rt = build_runtime(config)
    with db.transaction(rt.session_factory) as session:
        seed_demo(session, config, rt.now())
    rt.close()
    local = f"http://127.0.0.1:{config.port}"
    base = config.public_base_url if "PUBLIC_BASE_URL" in os.environ else local
    password = existing_demo_password(config)
    banner = [
        f"PeerNudge is running ({config.sms_gateway} gateway). Ctrl-C stops everything.",
        f"  Dashboard:      {base}/",
        f"  SMS simulator:  {base}/simulator/" if config.sms_gateway == "simulator" else "",
        f"  Demo login:     {DEMO_EMAIL} / {password}" if password else "",
    ]
    return [line for line in banner if line]


@cli.command()
@click.option(
    "--replies", is_flag=True,
    help="Only staff alerts and inbound texts, so no long batch of nudges can hold them up.",
)  # fmt: skip
def worker(replies: bool) -> None:
    """Run one RQ worker on the alerts, inbound and nudges queues (with RQ's scheduler).

    Staff alerts come first, then inbound texts: RQ takes from the queues in
    order, so neither waits behind queued nudges; ``--replies`` leaves the nudges
    out, for a worker that is never busy with a paced batch when a text arrives."""
    rt = runtime()
    if rt.queue is None:
        raise CliError("REDIS_URL is not set; the worker needs Redis")
    warm_up(rt)
    if replies:
        # Short jobs, run in this process: no fork, no fresh database connection per text.
        workers.inbound.send_in_background = True  # replies go on threads, in order per peer
        SimpleWorker([rt.alert_queue, rt.inbound_queue], connection=rt.redis).work()
        return
    queues = [rt.alert_queue, rt.inbound_queue, rt.queue]
    Worker(queues, connection=rt.redis).work(with_scheduler=True)


def warm_up(rt: Runtime) -> None:
    """Do once in the worker what every forked job would otherwise redo.

    RQ forks a work horse per job; imports, compiled templates and the twilio
    client's lazily loaded API modules made here are inherited by every fork.
    """
    read("warm up: DONE 2", Context())  # loads the vocabularies, patterns and model
    env = environment(str(TEMPLATES_DIR))
    for template in env.list_templates(extensions=["txt"]):
        env.get_template(template)
    if rt.settings.sms_gateway == "twilio":
        rt.gateway.client.messages  # noqa: B018  (loads the API modules, no request)


@cli.command()
@click.option("--once", is_flag=True, help="Plan and reconcile once, then exit.")
@click.option("--json", "as_json", is_flag=True)
def planner(once: bool, as_json: bool) -> None:
    """Plan due nudges every minute (safe to run on several machines)."""
    rt = runtime()
    if not once:
        run_forever(rt)
        return
    alerted, digests = escalate(rt), send_digests(rt)
    planned, fixed = plan_due(rt), reconcile_once(rt)
    data = {"planned": planned, "reconciled": fixed, "alert_notifications": alerted,
            "digests": digests}  # fmt: skip
    emit(as_json, data, f"planned {planned}, reconciled {fixed}, alert notifications {alerted}")


@cli.command()
@click.option("--json", "as_json", is_flag=True)
def doctor(as_json: bool) -> None:
    """Check settings, database, Redis and Twilio; exit 1 when something must be fixed."""
    findings = diagnose(runtime())
    data = [{"check": f.check, "level": f.level, "detail": f.detail} for f in findings]
    lines = [f"{f.level.upper():5} {f.check}: {f.detail}" for f in findings]
    emit(as_json, data, "\n".join(lines))
    if any(f.level == "fail" for f in findings):
        sys.exit(1)


@cli.command()
@click.option(
    "--once", is_flag=True, required=True, help="One pass (the planner loop runs it too)."
)
@click.option("--json", "as_json", is_flag=True)
def reconcile(once: bool, as_json: bool) -> None:
    """Re-queue planned messages that lost their job; settle ones a crash left mid-send."""
    fixed = reconcile_once(runtime())
    emit(as_json, {"reconciled": fixed}, f"reconciled {fixed}")


@cli.command("rollup-reports")
@click.option("--json", "as_json", is_flag=True)
def rollup_reports(as_json: bool) -> None:
    """Keep the program report's daily tallies for every final day not kept yet (run it
    once a day, e.g. from cron)."""
    rt, total = runtime(), 0
    while days := roll_up_reports(rt):
        total += days
    emit(as_json, {"days": total}, f"rolled up {total} days")


@cli.group(name="db")
def db_group() -> None:
    """Database migrations."""


@db_group.command()
def upgrade() -> None:
    """Apply every migration (creates the database when it is empty)."""
    db.upgrade(settings().database_url)
    click.echo("database is up to date")


@cli.group()
def specialist() -> None:
    """Specialist accounts."""


@specialist.command("create")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--admin", is_flag=True, help="May see every caseload and manage specialists.")
@click.option("--phone", default=None, help="Mobile number for urgent alerts (and ACK replies).")
@click.option("--json", "as_json", is_flag=True)
def specialist_create(
    email: str, name: str, password: str, admin: bool, phone: str | None, as_json: bool
) -> None:
    """Create a specialist who can sign in to the dashboard."""
    rt = runtime()
    try:
        with db.transaction(rt.session_factory) as session:
            role = "admin" if admin else "specialist"
            person = create_specialist(
                session, email, name, password, role, phone, rt.settings.default_region
            )
            data = {"id": person.id, "email": person.email, "name": person.name, "role": role,
                    "phone": person.phone}  # fmt: skip
    except AccountError as error:
        raise CliError(str(error)) from None
    emit(as_json, data, f"created specialist {data['email']}")


@cli.group()
def peer() -> None:
    """Peers and their goals."""


@peer.command("add")
@click.option("--specialist", "specialist_email", required=True, help="The specialist's email.")
@click.option("--phone", required=True)
@click.option("--name", required=True, help="First name or nickname.")
@click.option("--tz", default=None, help="IANA time zone (default: from the number).")
@click.option("--lang", default="en", type=click.Choice(["en", "es"]))
@click.option("--goal", required=True, help="The goal, in the peer's own words.")
@click.option("--days", required=True, help="daily | weekdays | mon,wed,fri | 3x-week")
@click.option("--time", "times", required=True, help="HH:MM[,HH:MM] local time")
@click.option("--consent", default="in person", help="How the peer gave consent.")
@click.option("--json", "as_json", is_flag=True)
def peer_add(specialist_email: str, phone: str, name: str, tz: str | None, lang: str,
             goal: str, days: str, times: str, consent: str, as_json: bool) -> None:  # fmt: skip
    """Enrol a peer with one goal and its check-in schedule; plans the welcome text."""
    rt = runtime()
    enrolment = Enrolment(phone, name, goal, days, times, tz, lang, consent_method=consent)
    with db.transaction(rt.session_factory) as session:
        owner = session.scalar(
            select(Specialist).where(Specialist.email == specialist_email.strip().lower())
        )
        if owner is None:
            raise CliError(f"no specialist with email {specialist_email}")
        try:
            new = enrol_peer(session, rt.settings, owner, enrolment, rt.now())
        except EnrolmentError as error:
            raise CliError(str(error)) from None
        data = describe_peer(session, new, rt)
    queueing.enqueue_planned_for_peer(rt, data["id"])
    emit(as_json, data, f"enrolled {data['name']} ({data['phone']}), status {data['status']}")


def describe_peer(session: Any, person: Peer, rt: Runtime) -> dict[str, Any]:
    upcoming = next_planned(session, person)
    return {
        "id": person.id,
        "phone": person.phone,
        "name": person.display_name,
        "timezone": person.timezone,
        "language": person.language,
        "status": person.status(rt.now()),
        "specialist": person.specialist.email,
        "goals": [
            {
                "number": goal.position,
                "text": goal.text,
                "active": goal.active,
                "schedules": [
                    {
                        "kind": s.kind,
                        "days": s.days,
                        "times": s.times.split(","),
                        "active": s.active,
                        "next_due_at": s.next_due_at.isoformat() if s.next_due_at else None,
                    }
                    for s in goal.schedules
                ],
            }
            for goal in person.goals
        ],
        "next_nudge_at": upcoming.isoformat() if upcoming else None,
    }


def peers_query():
    return select(Peer).options(
        selectinload(Peer.goals).selectinload(Goal.schedules), selectinload(Peer.specialist)
    )


@peer.command("list")
@click.option("--json", "as_json", is_flag=True)
def peer_list(as_json: bool) -> None:
    """Every peer, with status."""
    rt = runtime()
    with rt.session_factory() as session:
        people = session.scalars(peers_query().order_by(Peer.display_name)).all()
        data = [describe_peer(session, p, rt) for p in people]
    lines = [f"{p['phone']}  {p['name']:<20} {p['status']:<10} {p['timezone']}" for p in data]
    emit(as_json, data, "\n".join(lines) if lines else "no peers")


@peer.command("show")
@click.argument("phone")
@click.option("--json", "as_json", is_flag=True)
def peer_show(phone: str, as_json: bool) -> None:
    """One peer: goals, schedules and the next planned nudge."""
    rt = runtime()
    with rt.session_factory() as session:
        try:
            person = find_peer(session, phone, rt.settings.default_region)
        except PhoneError as error:
            raise CliError(str(error)) from None
        if person is None:
            raise CliError(f"no peer with phone {phone}")
        data = describe_peer(session, person, rt)
    goals = "\n".join(
        f"  {g['number']}. {g['text']}: "
        + "; ".join(f"{s['kind']} {s['days']} at {','.join(s['times'])}" for s in g["schedules"])
        for g in data["goals"]
    )
    text = (
        f"{data['name']} {data['phone']} ({data['timezone']}, {data['language']}) "
        f"{data['status']}\n{goals}\n  next nudge: {data['next_nudge_at'] or 'none planned'}"
    )
    emit(as_json, data, text)


def main() -> None:
    cli(prog_name="peernudge")


if __name__ == "__main__":
    main()
