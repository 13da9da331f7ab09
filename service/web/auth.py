"""Specialist sign-in: Flask-Login sessions, hashed passwords, rate-limited attempts.

A session names the specialist *and* their session version. Every request
checks both, so bumping the version (:func:`end_sessions`: on logout, a
password change or reset, a role change, switching the account off) ends every
session of that specialist at once, including cookies saved earlier.
"""

from __future__ import annotations

import hashlib
import unicodedata
from typing import Any
from urllib.parse import unquote, urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import (
    LoginManager,
    UserMixin,
    current_user,
    login_required,
    login_user,
    logout_user,
)
from flask_wtf import FlaskForm
from itsdangerous import BadData, URLSafeTimedSerializer
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Length

from service.models import AuditEvent, Specialist
from service.passwords import (
    MAX_LENGTH,
    PasswordError,
    check_new_password,
    hash_password,
    password_matches,
)
from service.web import runtime
from service.web.extensions import limiter
from service.web.request_input import whole_number

bp = Blueprint("auth", __name__)
login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = "Please sign in to continue."

# Failed sign-ins only. Per account: guessing one password; per address: trying many
# accounts. Neither locks others out: another account, or another address, still works.
ACCOUNT_RATE = "10 per minute; 50 per hour"
ADDRESS_RATE = "30 per minute; 300 per hour"
RESET_LINK_HOURS = 24
RESET_SALT = "password-reset"


class SignedInSpecialist(UserMixin):
    """The session's view of a specialist: id, name, role and session version."""

    def __init__(self, specialist: Specialist):
        self.id = specialist.id
        self.name = specialist.name
        self.email = specialist.email
        self.role = specialist.role
        self.timezone = specialist.timezone or "UTC"
        self.session_version = specialist.session_version

    def get_id(self) -> str:
        """What the session stores: the id and the version it was signed in with."""
        return f"{self.id}:{self.session_version}"

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


@login_manager.user_loader
def load_specialist(session_id: str) -> SignedInSpecialist | None:
    """The signed-in specialist, if the account is on and the session version current."""
    id_part, _, version_part = session_id.partition(":")
    specialist_id, version = whole_number(id_part), whole_number(version_part)
    if specialist_id is None or version is None:
        return None
    with runtime().session_factory() as db_session:
        specialist = db_session.get(Specialist, specialist_id)
        if specialist is None or not specialist.is_active:
            return None
        if specialist.session_version != version:
            return None
        return SignedInSpecialist(specialist)


def end_sessions(specialist: Specialist) -> None:
    """Every session of this specialist stops working with the next request."""
    specialist.session_version = (specialist.session_version or 0) + 1


def sign_in_session(specialist: Specialist) -> None:
    """Sign this browser in; the session expires after SESSION_LIFETIME_HOURS unused."""
    login_user(SignedInSpecialist(specialist))
    session.permanent = True


def find_by_credentials(email: str, password: str) -> Specialist | None:
    """The active specialist with this email and password; one hash either way."""
    with runtime().session_factory() as db_session:
        specialist = db_session.scalar(
            select(Specialist).where(func.lower(Specialist.email) == email.strip().lower())
        )
    stored = specialist.password_hash if specialist is not None else None
    if password_matches(stored, password) and specialist is not None and specialist.is_active:
        return specialist
    return None


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=MAX_LENGTH)])


def account_key() -> str:
    """The rate-limit key of the account a sign-in names (hashed: no emails in Redis)."""
    email = (request.form.get("email") or "").strip().lower()
    return "login-account:" + hashlib.sha256(email.encode()).hexdigest()[:32]


def failed_sign_in(response: Any) -> bool:
    return response.status_code == 401


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(ACCOUNT_RATE, key_func=account_key, methods=["POST"], deduct_when=failed_sign_in)
@limiter.limit(ADDRESS_RATE, methods=["POST"], deduct_when=failed_sign_in)
def login():
    form = LoginForm()
    if form.validate_on_submit():
        specialist = find_by_credentials(form.email.data or "", form.password.data or "")
        if specialist is not None:
            sign_in_session(specialist)
            return redirect(safe_next(request.args.get("next")))
        flash("That email and password do not match an account.", "error")
    return render_template("login.html", form=form), 200 if request.method == "GET" else 401


def safe_next(target: str | None) -> str:
    """Where to go after signing in: ``target`` if it is a path on this site, else home."""
    if target and is_local_path(target) and is_local_path(unquote(target)):
        return target
    return url_for("dashboard.caseload")


def is_local_path(target: str) -> bool:
    """A path on this site: one leading slash, no scheme or host, nothing a browser
    would drop or reinterpret (``/\\t/evil.example`` is ``//evil.example`` to a browser)."""
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return False
    if any(char.isspace() or unicodedata.category(char).startswith("C") for char in target):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc


@bp.post("/logout")
@login_required
def logout():
    """Sign out here and everywhere: every saved cookie of this account stops working."""
    with runtime().session_factory() as db_session, db_session.begin():
        specialist = db_session.get(Specialist, current_user.id)
        if specialist is not None:
            end_sessions(specialist)
    logout_user()
    return redirect(url_for("auth.login"))


def audit_account(db_session: Session, specialist_id: int, action: str) -> None:
    db_session.add(
        AuditEvent(
            actor=f"specialist:{specialist_id}",
            peer_id=None,
            action=action,
            detail=None,
            created_at=runtime().now(),
        )
    )


def new_password_problem(new: str, again: str) -> str | None:
    """Why two typed new passwords cannot be used, or None."""
    if new != again:
        return "the two new passwords are not the same"
    try:
        check_new_password(new)
    except PasswordError as error:
        return str(error)
    return None


@bp.post("/account/password")
@login_required
def change_password():
    """A new password (the current one is needed); other sessions of the account end."""
    form = request.form
    problem = new_password_problem(form.get("new_password", ""), form.get("new_password_again", ""))
    if not password_matches(stored_hash(current_user.id), form.get("current_password", "")):
        problem = "the current password is not right"
    if problem is not None:
        flash(f"Not changed: {problem}.", "error")
        return redirect(url_for("dashboard.account") + "#password", code=303)
    specialist = set_password(current_user.id, form["new_password"], "password changed")
    sign_in_session(specialist)  # this browser stays signed in, with the new version
    flash("Password changed. Every other browser signed in as you is signed out.", "status")
    return redirect(url_for("dashboard.account"), code=303)


def stored_hash(specialist_id: int) -> str | None:
    with runtime().session_factory() as db_session:
        specialist = db_session.get(Specialist, specialist_id)
        return specialist.password_hash if specialist is not None else None


def set_password(specialist_id: int, password: str, action: str) -> Specialist:
    """Store a new password and end every session of the account (audited as ``action``).

    The hash is computed first: it takes a tenth of a second, and a transaction holds
    SQLite's write lock for every other request meanwhile.
    """
    new_hash = hash_password(password)
    with runtime().session_factory() as db_session, db_session.begin():
        specialist = db_session.get(Specialist, specialist_id)
        specialist.password_hash = new_hash
        end_sessions(specialist)
        audit_account(db_session, specialist.id, action)
    return specialist


def reset_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=RESET_SALT)


def reset_link(specialist: Specialist) -> str:
    """A link that sets this specialist's password once, within RESET_LINK_HOURS.

    It carries the session version, which issuing it and using it both bump: a
    used link, or one issued before the latest, no longer matches.
    """
    token = reset_serializer().dumps({"id": specialist.id, "v": specialist.session_version})
    return url_for("auth.reset_password", token=token, _external=True)


def specialist_for_reset(db_session: Session, token: str) -> Specialist | None:
    try:
        data = reset_serializer().loads(token, max_age=RESET_LINK_HOURS * 3600)
    except BadData:
        return None
    if not isinstance(data, dict):
        return None
    specialist = db_session.get(Specialist, whole_number(str(data.get("id"))) or 0)
    if specialist is None or not specialist.is_active:
        return None
    return specialist if specialist.session_version == data.get("v") else None


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    """Choose a new password from an admin's one-time link."""
    with runtime().session_factory() as db_session:
        valid = specialist_for_reset(db_session, token) is not None
    if not valid:
        return render_template("reset.html", valid=False), 404
    if request.method == "GET":
        return render_template("reset.html", valid=True, error=None)
    form = request.form
    problem = new_password_problem(form.get("new_password", ""), form.get("new_password_again", ""))
    if problem is not None:
        return render_template("reset.html", valid=True, error=problem), 400
    if not use_reset_link(token, form["new_password"]):  # used meanwhile, by another request
        return render_template("reset.html", valid=False), 404
    logout_user()
    flash("Your password is set. Sign in with it now.", "status")
    return redirect(url_for("auth.login"), code=303)


def use_reset_link(token: str, password: str) -> bool:
    """Set the password the link is for, and spend the link; False if it is no longer good.

    The update only applies while the session version is still the link's, so two
    requests racing with one link cannot both use it. Nothing here renders a page: a
    page asks for the signed-in user, which would open a second transaction while this
    one holds SQLite's write lock.
    """
    new_hash = hash_password(password)
    with runtime().session_factory() as db_session, db_session.begin():
        specialist = specialist_for_reset(db_session, token)
        if specialist is None:
            return False
        spent = db_session.execute(
            update(Specialist)
            .where(
                Specialist.id == specialist.id,
                Specialist.session_version == specialist.session_version,
            )
            .values(password_hash=new_hash, session_version=Specialist.session_version + 1)
        )
        if not spent.rowcount:
            return False
        audit_account(db_session, specialist.id, "password reset used")
    return True


__all__ = ["bp", "end_sessions", "hash_password", "login_manager", "reset_link"]
