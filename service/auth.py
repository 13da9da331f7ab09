"""Specialist sign-in: Flask-Login sessions, hashed passwords, rate-limited attempts."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import LoginManager, UserMixin, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Length

from service.extensions import limiter
from service.models import Specialist
from service.web import runtime

bp = Blueprint("auth", __name__)
login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = "Please sign in to continue."


class SignedInSpecialist(UserMixin):
    """The session's view of a specialist: id, name and role, nothing more."""

    def __init__(self, specialist: Specialist):
        self.id = specialist.id
        self.name = specialist.name
        self.email = specialist.email
        self.role = specialist.role
        self.timezone = specialist.timezone or "UTC"

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


@login_manager.user_loader
def load_specialist(specialist_id: str) -> SignedInSpecialist | None:
    if not specialist_id.isdigit():
        return None
    with runtime().session_factory() as session:
        specialist = session.get(Specialist, int(specialist_id))
        if specialist is None or not specialist.is_active:
            return None
        return SignedInSpecialist(specialist)


def hash_password(password: str) -> str:
    return generate_password_hash(password)


def find_by_credentials(email: str, password: str) -> Specialist | None:
    with runtime().session_factory() as session:
        specialist = session.scalar(
            select(Specialist).where(func.lower(Specialist.email) == email.strip().lower())
        )
    if (
        specialist
        and specialist.is_active
        and check_password_hash(specialist.password_hash, password)
    ):
        return specialist
    return None


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=200)])


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("10 per minute; 50 per hour", methods=["POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        specialist = find_by_credentials(form.email.data or "", form.password.data or "")
        if specialist is not None:
            login_user(SignedInSpecialist(specialist))
            return redirect(_safe_next(request.args.get("next")))
        flash("That email and password do not match an account.", "error")
    return render_template("login.html", form=form), 200 if request.method == "GET" else 401


def _safe_next(target: str | None) -> str:
    """Only same-site paths, so the login page cannot redirect elsewhere."""
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("dashboard.caseload")


@bp.post("/logout")
@login_required
def logout():
    logout_user()
    return redirect(url_for("auth.login"))
