"""Email to staff: SMTP when it is configured, else the outbox page.

``send_email`` speaks SMTP with the standard library (``smtplib``), with
STARTTLS and a login when the settings ask for them. With no ``SMTP_HOST``
(the embedded default) nothing leaves the machine: the caller keeps the
message and the staff outbox page (``/outbox/``) shows it, the way the SMS
simulator stands in for a phone.
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import make_msgid

from service.settings import Settings

OUTBOX_PREFIX = "outbox:"
SMTP_TIMEOUT_SECONDS = 20


class MailError(Exception):
    """An email could not be handed to the SMTP server. ``permanent``: do not retry."""

    def __init__(self, message: str, *, permanent: bool):
        super().__init__(message)
        self.permanent = permanent


def smtp_configured(settings: Settings) -> bool:
    return settings.smtp_host is not None


def build_email(settings: Settings, to: str, subject: str, body: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain=settings.mail_from.partition("@")[2] or None)
    message.set_content(body)
    return message


def send_email(settings: Settings, to: str, subject: str, body: str) -> str:
    """Send one plain-text email; return its Message-ID (or an outbox id without SMTP)."""
    message = build_email(settings, to, subject, body)
    if not smtp_configured(settings):
        return OUTBOX_PREFIX + message["Message-ID"]
    try:
        with smtplib.SMTP(
            settings.smtp_host, settings.smtp_port, timeout=SMTP_TIMEOUT_SECONDS
        ) as smtp:
            if settings.smtp_starttls:
                smtp.starttls(context=ssl.create_default_context())
            if settings.smtp_username:
                smtp.login(settings.smtp_username, settings.smtp_password or "")
            smtp.send_message(message)
    except smtplib.SMTPRecipientsRefused as error:
        raise MailError(f"recipient refused: {error}", permanent=True) from None
    except smtplib.SMTPResponseException as error:
        raise MailError(f"SMTP {error.smtp_code}", permanent=500 <= error.smtp_code < 600) from None
    except (OSError, smtplib.SMTPException) as error:
        raise MailError(f"SMTP unavailable: {type(error).__name__}", permanent=False) from None
    return message["Message-ID"]
