"""The specialist dashboard: caseload, enrolment, peer page, flags, direct texts, export.

Plain server-rendered pages with CSRF on every form. A specialist sees only
their own caseload; an admin sees everyone's. Every change is audited.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required
from markupsafe import Markup, escape
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict

from service import (
    alerts,
    charts,
    digest,
    peer_changes,
    planned_texts,
    plans,
    queueing,
    quiet_hours,
)
from service.accounts import AccountError, set_phone
from service.api_tokens import new_token, revoke
from service.flag_kinds import KIND_LABELS
from service.flags import attention_key
from service.models import (
    OPTED_IN,
    PLANNED,
    ApiToken,
    AuditEvent,
    CheckIn,
    ConsentEvent,
    Flag,
    Goal,
    Mood,
    OutboundMessage,
    Peer,
    Specialist,
)
from service.peers import EnrolmentError, NumberTaken, enrol_peer
from service.phones import national_format
from service.recurrence import available_zones, parse_clock
from service.reports import ANSWER_WITHIN
from service.web import inbox, runtime
from service.web.alert_pages import UNTOUCHED_BLUEPRINTS
from service.web.caseload import (
    FILTERS,
    alerted_peer_or_404,
    attention_count,
    audit,
    caseload_view,
    filter_counts,
    filtered_peers,
    peer_or_404,
    thread,
    visible_peers,
)
from service.web.peer_forms import (
    CADENCE_LABELS,
    SUMMARY_LABELS,
    WEEKDAY_LABELS,
    companions_form,
    days_in_words,
    form_anchors,
    form_context,
    goal_form,
    read_enrolment,
    schedule_in_words,
    sentence,
)

bp = Blueprint("dashboard", __name__)
REPLY_WINDOW = timedelta(days=ANSWER_WITHIN)  # the program report's: a day to answer
MAX_DIRECT_CHARS = 320
# GET routes that render no navigation, so need no count (the summary is polled often).
NO_NAVIGATION = {
    "static",
    "dashboard.caseload_summary",
    "dashboard.export_caseload",
    "dashboard.export_peer",
}
EXPORT_COLUMNS = ("at", "direction", "kind", "status", "skip_reason", "error_code", "body")


def open_flags(session: Session, peer_ids: list[int]) -> dict[int, list[Flag]]:
    flags: dict[int, list[Flag]] = {peer_id: [] for peer_id in peer_ids}
    rows = session.scalars(
        select(Flag).where(Flag.peer_id.in_(peer_ids), Flag.resolved_at.is_(None))
    ).all()
    for flag in rows:
        flags[flag.peer_id].append(flag)
    return flags


REPLY_WINDOW = timedelta(days=ANSWER_WITHIN)  # the program report's: a day to answer


def reply_rate(session: Session, peer: Peer, now: datetime) -> float | None:
    """Check-ins answered over the last 14 days, as a share of the check-ins that can be
    judged: answered ones, and unanswered ones older than a day (the reply window the
    program report uses). A check-in still open is not yet unanswered: None (shown as
    "-") until there is one to judge."""
    since = now - timedelta(days=14)
    asked = session.execute(
        select(OutboundMessage.goal_id, OutboundMessage.sent_at).where(
            OutboundMessage.peer_id == peer.id,
            OutboundMessage.kind == "checkin",
            OutboundMessage.status.in_(("sent", "delivered")),
            OutboundMessage.sent_at >= since,
        )
    ).all()
    answers = session.execute(
        select(CheckIn.goal_id, CheckIn.created_at).where(
            CheckIn.peer_id == peer.id, CheckIn.created_at >= since
        )
    ).all()

    def answered(goal_id: int | None, sent_at: datetime) -> bool:
        return any(
            goal == goal_id and sent_at <= at < sent_at + REPLY_WINDOW for goal, at in answers
        )

    verdicts = [answered(*text) for text in asked]
    judged = [yes for yes, (_, sent_at) in zip(verdicts, asked, strict=True)
              if yes or sent_at <= now - REPLY_WINDOW]  # fmt: skip
    return sum(judged) / len(judged) if judged else None


@bp.get("/")
@login_required
def caseload():
    """The caseload as an inbox: who needs attention and why, in the peer's own words."""
    now = runtime().now()
    view, problem = caseload_view(request.args)
    with runtime().session_factory() as session:
        peers = session.scalars(filtered_peers(view, now)).all()
        rows = caseload_rows(session, peers, now)
        page = render_template(
            "caseload.html",
            rows=rows,
            view=view,
            problem=problem,
            filters=FILTERS,
            counts=filter_counts(session, now),
            summary=flag_summary(session),
            **inbox_context(now),
        )
        return page, 400 if problem else 200


def caseload_rows(session: Session, peers: list[Peer], now: datetime) -> list[dict[str, Any]]:
    """One row per peer, the ones who need attention first: flags, the texts behind
    them, the last text and the reply rate."""
    ids = [peer.id for peer in peers]
    flags, last = open_flags(session, ids), inbox.last_texts(session, ids)
    texts = inbox.texts_behind(session, [f for peer_flags in flags.values() for f in peer_flags])
    rows = [
        {
            "peer": peer,
            "flags": flags[peer.id],
            "texts": texts,
            "last_text": last.get(peer.id),
            "reply_rate": reply_rate(session, peer, now),
        }
        for peer in peers
    ]
    rows.sort(key=lambda row: (attention_key(row["flags"]), row["peer"].display_name.lower()))
    return rows


def inbox_context(now: datetime) -> dict[str, Any]:
    """What the flag reasons and ages need in a template (caseload and peer page)."""
    return {
        "now": now,
        "my_zone": specialist_zone(),
        "labels": KIND_LABELS,
        "national_format": national_format,
        "trimmed": inbox.trimmed,
        "relative_age": inbox.relative_age,
        "full_time": inbox.full_time,
        "silent_days": inbox.silent_days,
        "preview_chars": inbox.PREVIEW_CHARS,
    }


@bp.before_app_request
def count_peers_needing_attention() -> None:
    """The number in the navigation's Caseload link, read before the view's own session
    (as the on-call names are: SQLite would wait on the view's lock while rendering)."""
    if request.method != "GET" or request.blueprint in UNTOUCHED_BLUEPRINTS:
        return
    if request.endpoint not in NO_NAVIGATION and current_user.is_authenticated:
        with runtime().session_factory() as session:
            g.attention_count = attention_count(session)


@bp.app_context_processor
def navigation_counts() -> dict[str, Any]:
    return {"attention_count": g.get("attention_count")}


@bp.app_template_filter("yours")
def in_your_zone(moment: datetime | None, pattern: str = "%b %d %H:%M %Z") -> str:
    """A stored moment in the signed-in person's own zone, named ("Dec 01 09:30 EST");
    UTC for a page nobody is signed in to (an alert's email link)."""
    if moment is None:
        return ""
    zone = specialist_zone() if current_user.is_authenticated else UTC
    return moment.astimezone(zone).strftime(pattern)


@bp.app_template_filter("breakable")
def breakable(name: str) -> Markup:
    """A zone name that may wrap after each "/" or "_" ("America/Argentina/
    ComodRivadavia" is wider than a table column on a phone)."""
    return Markup("<wbr>").join(
        escape(part) for part in str(name).replace("/", "/\0").replace("_", "_\0").split("\0")
    )


def flag_summary(session: Session) -> dict[str, int]:
    """Open flags on the visible caseload: how many are urgent, and the newest flag's id
    (the caseload page polls this to know when to refresh)."""
    visible = visible_peers().with_only_columns(Peer.id)
    row = session.execute(
        select(
            func.count(Flag.id).filter(Flag.urgent),
            func.count(Flag.id),
            func.max(Flag.id),
        ).where(Flag.peer_id.in_(visible), Flag.resolved_at.is_(None))
    ).one()
    return {"urgent": row[0] or 0, "open": row[1] or 0, "latest": row[2] or 0}


@bp.get("/caseload/summary.json")
@login_required
def caseload_summary():
    """What the caseload page polls: counts of open flags (no names, no words)."""
    with runtime().session_factory() as session:
        return flag_summary(session)


def preferred_window(form: Any) -> tuple[time | None, time | None]:
    """The peer's own hours as local clock times (ScheduleError, a ValueError, if not)."""
    values = []
    for field in ("window_start", "window_end"):
        raw = (form.get(field) or "").strip()
        values.append(parse_clock(raw) if raw else None)
    return values[0], values[1]


ENROLMENT_DEFAULTS = {"days_choice": "daily", "time_1": "09:00", "language": "en"}


@bp.route("/peers/new", methods=["GET", "POST"])
@login_required
def enrol():
    """Enrol a peer with them; every problem is shown at once, beside its field."""
    if request.method == "GET":
        return enrolment_page(MultiDict(ENROLMENT_DEFAULTS), {})
    rt = runtime()
    with rt.session_factory() as session:
        owner = session.get(Specialist, current_user.id)
        enrolment, reading = read_enrolment(session, rt.settings, request.form, owner)
    if reading.taken is not None:
        reading.errors["phone"] = number_taken(reading.taken)
    if enrolment is None:
        return enrolment_page(request.form, reading.ordered(), status=400)
    try:
        with rt.session_factory() as session, session.begin():
            owner = session.get(Specialist, current_user.id)
            peer = enrol_peer(session, rt.settings, owner, enrolment, rt.now())
            audit(session, "enrolled", peer.id, goal=peer.goals[0].text)
            peer_id, consented = peer.id, peer.consent == OPTED_IN
            welcome_note = welcome_words(session, peer, rt.now())
    except NumberTaken as error:  # enrolled by someone else since the form was checked
        return enrolment_page(request.form, {"phone": number_taken(error)}, status=400)
    except EnrolmentError as error:
        return enrolment_page(request.form, {"form": sentence(str(error))}, status=400)
    queueing.enqueue_planned_for_peer(rt, peer_id)
    if consented:
        flash(f"Enrolled. {welcome_note}", "status")
    else:  # this number texted STOP before: that still binds until the peer texts START
        flash(
            "Enrolled, but this number opted out earlier: nothing is sent until the peer "
            "texts START.",
            "error",
        )
    return redirect(url_for("dashboard.peer_page", peer_id=peer_id))


def enrolment_page(form: MultiDict, errors: dict[str, str], status: int = 200):
    rt = runtime()
    with rt.session_factory() as session:
        context = form_context(session, rt.settings, form, errors)
    return render_template("enrol.html", **context), status


def welcome_words(session: Session, peer: Peer, now: datetime) -> str:
    """When the welcome goes: at once, or when the peer's hours open (in both zones)."""
    texts = planned_texts.planned_texts(session, runtime().settings, peer, now)
    welcome = next((text for text in texts if text.kind == "welcome"), None)
    if welcome is not None and welcome.waits_for_hours:
        return planned_texts.waiting_sentence(
            runtime().settings, welcome, peer, specialist_zone(), now
        )
    return "The welcome text is on its way."


def number_taken(error: NumberTaken) -> str:
    """The enroller's message; a number on another caseload is also an admin notice."""
    if not error.elsewhere:
        return sentence(str(error))
    with runtime().session_factory() as session, session.begin():
        audit(session, "enrolment refused", error.peer_id, reason="number on another caseload")
    return f"{sentence(str(error))} An admin has been told, and can help."


def specialist_zone() -> ZoneInfo:
    """The signed-in specialist's own time zone, for times shown next to the peer's."""
    return ZoneInfo(current_user.timezone)


@dataclass(frozen=True)
class GoalProblems:
    """A goal form that could not be saved: which form, its problems, what was typed."""

    prefix: str  # "new-" for the add form, "g<goal id>-" for a goal's own
    errors: dict[str, str]
    values: MultiDict

    @property
    def anchors(self) -> dict[str, str]:
        return form_anchors(self.prefix, self.errors)


@bp.get("/peers/<int:peer_id>")
@login_required
def peer_page(peer_id: int):
    return render_peer_page(peer_id)


def render_peer_page(
    peer_id: int, goal_problems: GoalProblems | None = None, status: int = 200
) -> tuple[str, int]:
    """The peer page; with ``goal_problems``, that goal form open with its errors."""
    now = runtime().now()
    with runtime().session_factory() as session:
        peer = alerted_peer_or_404(session, peer_id)
        today = now.astimezone(ZoneInfo(peer.timezone)).date()
        context = {
            **inbox_context(now),
            **flag_history(session, peer),
            "peer": peer,
            "messages": thread(session, peer),
            "upcoming": planned_texts.planned_texts(session, runtime().settings, peer, now),
            "held_labels": planned_texts.HELD_LABELS,
            "zone": ZoneInfo(peer.timezone),
            "check_ins": session.execute(
                select(CheckIn, Goal.text)
                .join(Goal, Goal.id == CheckIn.goal_id)
                .where(CheckIn.peer_id == peer.id)
                .order_by(CheckIn.local_date.desc(), Goal.position)
                .limit(30)
            ).all(),
            "moods": session.scalars(
                select(Mood)
                .where(Mood.peer_id == peer.id)
                .order_by(Mood.local_date.desc())
                .limit(30)
            ).all(),
            "consent": session.scalars(
                select(ConsentEvent)
                # this number's ledger, and the peer's own events at earlier numbers
                .where(or_(ConsentEvent.phone == peer.phone, ConsentEvent.peer_id == peer.id))
                .order_by(ConsentEvent.created_at, ConsentEvent.id)
            ).all(),
            "alerts": alerts.alerts_by_flag(session, peer.id),
            "charts": [charts.progress_svg(session, g, today) for g in peer.goals if g.active],
            "window": list(quiet_hours.window_text(runtime().settings, peer)),
            "goal_form": goal_form,
            "new_goal_form": MultiDict({"days_choice": "daily"}),
            "weekdays": WEEKDAY_LABELS,
            "is_paused": plans.is_paused,
            "cadence_labels": CADENCE_LABELS,
            "summary_days": SUMMARY_LABELS,
            "companions": companions_form(peer),
            "specialists": session.scalars(
                select(Specialist).where(Specialist.is_active).order_by(Specialist.name)
            ).all()
            if current_user.is_admin
            else [],
            "in_window": quiet_hours.allows(runtime().settings, peer, now),
            "goal_news": None if goal_problems else goal_news_offer(peer, request.args),
            "goal_problems": goal_problems,
            "schedule_in_words": schedule_in_words,
            "days_in_words": days_in_words,
        }
        context["history"] = history(context["consent"], context["audit"])
        return render_template("peer.html", **context), status


def goal_news_offer(peer: Peer, args: Any) -> dict | None:
    """What the peer page shows after a goal was added or changed: the text it would send."""
    raw = str(args.get("announce") or "")
    goal_id = int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 10 else None
    goal = next((g for g in peer.goals if g.id == goal_id and g.active), None)
    if goal is None or peer.consent != OPTED_IN:
        return None
    changed = args.get("changed") == "1"
    preview = plans.goal_news_preview(runtime().settings, peer, goal, changed)
    return {"goal": goal, "changed": changed, "text": preview.body}


def history(consent: list[ConsentEvent], changes: list[AuditEvent]) -> list[tuple]:
    """Consent events and changes (flags resolved among them) as one list, newest first."""
    items = [("consent", e.created_at, e) for e in consent]
    items += [("change", a.created_at, a) for a in changes]
    return sorted(items, key=lambda item: item[1], reverse=True)


def flag_history(session: Session, peer: Peer) -> dict[str, Any]:
    """The peer's flags (open first) with the texts behind them, the change log, and the
    names of the specialists who resolved a flag or made a change."""
    flags = session.scalars(
        select(Flag)
        .where(Flag.peer_id == peer.id)
        .order_by(Flag.resolved_at.is_not(None), Flag.created_at.desc())
    ).all()
    changes = session.scalars(
        select(AuditEvent)
        .where(AuditEvent.peer_id == peer.id)
        .order_by(AuditEvent.created_at.desc())
        .limit(30)
    ).all()
    people = [f.resolved_by for f in flags] + [inbox.actor_id(a.actor) for a in changes]
    return {
        "flags": flags,
        "flags_by_id": {flag.id: flag for flag in flags},
        "texts": inbox.texts_behind(session, flags),
        "last_text": inbox.last_texts(session, [peer.id]).get(peer.id),
        "audit": changes,
        "names": inbox.specialist_names(session, people),
        "actor_id": inbox.actor_id,
    }


@bp.post("/peers/<int:peer_id>/messages")
@login_required
def message_peer(peer_id: int):
    """A one-off text from the specialist: respects opt-out; quiet hours only warn."""
    body = (request.form.get("body") or "").strip()
    rt = runtime()
    with rt.session_factory() as session, session.begin():
        peer = peer_or_404(session, peer_id)
        if peer.consent != OPTED_IN:
            flash("This peer has opted out; nothing can be sent until they text START.", "error")
            return redirect(url_for("dashboard.peer_page", peer_id=peer_id))
        if not body or len(body) > MAX_DIRECT_CHARS:
            flash(f"Write a message of 1 to {MAX_DIRECT_CHARS} characters.", "error")
            return redirect(url_for("dashboard.peer_page", peer_id=peer_id))
        message = OutboundMessage(
            peer_id=peer.id,
            to_phone=peer.phone,
            kind="direct",
            body=body,
            status=PLANNED,
            due_at=rt.now(),
            sent_by=current_user.id,
            created_at=rt.now(),
        )
        session.add(message)
        session.flush()
        audit(session, "direct_message", peer.id, message=message.id)
        due = [(message.id, message.due_at)]
    queueing.enqueue_sends(rt, due)
    flash("Message queued.", "status")
    return redirect(url_for("dashboard.peer_page", peer_id=peer_id))


@bp.post("/flags/<int:flag_id>/resolve")
@login_required
def resolve_flag(flag_id: int):
    rt = runtime()
    with rt.session_factory() as session, session.begin():
        flag = session.get(Flag, flag_id)
        if flag is None:
            abort(404)
        peer = peer_or_404(session, flag.peer_id)  # the same permission as the peer page
        note = (request.form.get("note") or "").strip()[:1000] or None
        if flag.urgent and note is None:
            flash("Not resolved: say what was done (a crisis needs a note).", "error")
            return redirect(url_for("dashboard.peer_page", peer_id=flag.peer_id), code=303)
        if flag.kind == "possible_opt_out":  # the specialist resolved it with the peer
            peer_changes.release_hold(session, peer, "opt_out_unclear", rt.now())
        flag.resolved_at, flag.resolved_by = rt.now(), current_user.id
        flag.resolution_note = note
        audit(session, "flag_resolved", flag.peer_id, flag=flag.id, kind=flag.kind)
        alerts.close_for_flag(session, flag.id, rt.now())  # its alert stops escalating
        alerts.plan_follow_up(session, flag, rt.now())  # after a crisis, a contact within 48 h
        peer_id = flag.peer_id
    if request.form.get("next") == "caseload":
        return redirect(url_for("dashboard.caseload"))
    return redirect(url_for("dashboard.peer_page", peer_id=peer_id))


def safe_cell(value: Any) -> str:
    """CSV cells that a spreadsheet would run as a formula are prefixed with a quote."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@bp.get("/peers/<int:peer_id>/export.csv")
@login_required
def export_peer(peer_id: int):
    with runtime().session_factory() as session, session.begin():
        peer = peer_or_404(session, peer_id)
        rows = [[peer.id, peer.display_name, *row] for row in history_rows(session, peer)]
        audit(session, "exported", peer.id)
    return csv_download(rows, f"peer-{peer_id}.csv")


@bp.get("/export.csv")
@login_required
def export_caseload():
    """Every visible peer's history in one file (an admin's: everyone's)."""
    with runtime().session_factory() as session, session.begin():
        rows = [
            [peer.id, peer.display_name, *row]
            for peer in session.scalars(visible_peers().order_by(Peer.id))
            for row in history_rows(session, peer)
        ]
        audit(session, "caseload exported", None, rows=len(rows))
    return csv_download(rows, "caseload.csv")


def history_rows(session: Session, peer: Peer) -> list[list[Any]]:
    return [[item[k] for k in EXPORT_COLUMNS] for item in thread(session, peer, limit=100_000)]


def csv_download(rows: list[list[Any]], filename: str) -> Response:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["peer_id", "peer", "time_utc", *EXPORT_COLUMNS[1:]])
    for row in rows:
        writer.writerow([safe_cell(value) for value in row])
    disposition = f"attachment; filename={filename}"
    return Response(
        buffer.getvalue(), mimetype="text/csv", headers={"Content-Disposition": disposition}
    )


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account():
    """The specialist's own settings: time zone, mobile for alerts, quiet hours."""
    if request.method == "POST":
        zone = (request.form.get("timezone") or "").strip()
        if zone not in available_zones():
            flash(f"Not saved: {zone!r} is not a time zone name like America/Chicago.", "error")
            return account_page(zone, status=400)
        problem = save_account(zone, request.form)
        if problem:
            flash(f"Not saved: {problem}.", "error")
            return account_page(zone, status=400)
        flash(f"Saved. Times are now shown in {zone} too.", "status")
        return redirect(url_for("dashboard.account"), code=303)
    return account_page(current_user.timezone)


def save_account(zone: str, form: Any) -> str | None:
    """Save the account form; the problem (nothing saved) or None."""
    try:
        quiet = preferred_window(
            {"window_start": form.get("quiet_start"), "window_end": form.get("quiet_end")}
        )
        preferred_window({"window_start": form.get("digest_time")})
    except ValueError:
        return "quiet hours and the digest time must look like 20:00"
    try:
        with runtime().session_factory() as session, session.begin():
            person = session.get(Specialist, current_user.id)
            person.timezone = zone
            set_phone(session, person, form.get("phone"), runtime().settings.default_region)
            person.quiet_start, person.quiet_end = quiet
            person.digest_time = preferred_window({"window_start": form.get("digest_time")})[0]
            if form.get("digest_channel") in digest.CHANNELS:
                person.digest_channel = form["digest_channel"]
            audit(session, "account changed", None, timezone=zone, phone_set=bool(person.phone),
                  quiet=[t.strftime("%H:%M") if t else None for t in quiet])  # fmt: skip
    except AccountError as error:
        return str(error)
    return None


def account_page(zone: str, new_token: str | None = None, status: int = 200):
    with runtime().session_factory() as session:
        tokens = session.scalars(
            select(ApiToken)
            .where(ApiToken.specialist_id == current_user.id)
            .order_by(ApiToken.created_at.desc())
        ).all()
        person = session.get(Specialist, current_user.id)
        return render_template(
            "account.html", zone=zone, tokens=tokens, new_token=new_token, person=person
        ), status


@bp.post("/account/tokens")
@login_required
def create_token():
    """A new API token: the secret is on this one page and never again."""
    name = " ".join((request.form.get("name") or "").split())[:80] or "API token"
    secret, hashed = new_token()
    with runtime().session_factory() as session, session.begin():
        session.add(
            ApiToken(
                specialist_id=current_user.id,
                name=name,
                token_hash=hashed,
                prefix=secret[:10],
                created_at=runtime().now(),
            )
        )
        audit(session, "api token created", None, name=name, prefix=secret[:10])
    return account_page(current_user.timezone, new_token=secret, status=201)


@bp.post("/account/tokens/<int:token_id>/revoke")
@login_required
def revoke_token(token_id: int):
    with runtime().session_factory() as session, session.begin():
        if not revoke(session, current_user.id, token_id, runtime().now()):
            abort(404)
        audit(session, "api token revoked", None, token_id=token_id)
    flash("Token revoked: it no longer works.", "status")
    return redirect(url_for("dashboard.account"), code=303)
