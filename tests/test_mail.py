"""Staff email over SMTP, against a real server on loopback."""

from __future__ import annotations

import pytest

from service.mail import OUTBOX_PREFIX, MailError, send_email
from tests.smtp_server import body_of, free_port


def test_an_email_reaches_the_smtp_server_with_its_sender(settings, smtp):
    configured = settings.with_overrides(
        smtp_host="127.0.0.1",
        smtp_port=smtp.port,
        smtp_starttls=False,
        mail_from="line@example.org",
    )
    message_id = send_email(configured, "jordan@example.org", "Urgent: Sam", "Call Sam.\n")
    (received,) = smtp.to("jordan@example.org")
    assert (received["From"], received["Subject"], received["Message-ID"]) == (
        "line@example.org",
        "Urgent: Sam",
        message_id,
    )
    assert body_of(received).splitlines() == ["Call Sam."]


def test_without_smtp_nothing_leaves_and_the_outbox_keeps_it(settings, smtp):
    assert send_email(settings, "jordan@example.org", "Urgent", "x").startswith(OUTBOX_PREFIX)
    assert smtp.messages == []


def test_a_server_that_is_down_is_a_transient_error(settings):
    configured = settings.with_overrides(smtp_host="127.0.0.1", smtp_port=free_port())
    with pytest.raises(MailError) as error:
        send_email(configured, "jordan@example.org", "Urgent", "x")
    assert error.value.permanent is False
