"""What browsers and API clients send, read strictly, once for every route.

Two rules that every form and query string shares, so no view needs its own:

* A NUL byte is refused (400) in any form field or query parameter of the
  dashboard, admin pages, simulator and API. PostgreSQL cannot store one, and
  nobody types one. The Twilio webhooks keep their own handling: their values
  are signed and must be read exactly as sent. The enrolment and peer-details
  forms refuse it themselves, beside the field that holds it
  (``service/web/peer_forms.py``), with the rest of the form's problems.
* Whole numbers are ASCII digits only. ``str.isdigit`` accepts ``³`` and
  ``int`` accepts Arabic-Indic digits; neither is an id anybody typed.
"""

from __future__ import annotations

import re

from flask import abort, request

DIGITS = re.compile(r"[0-9]{1,18}")  # [0-9], not \d: \d also matches other scripts' digits
DATABASE_ID_MAX = 2**31 - 1  # what an INTEGER column holds on every database we run on
SIGNED_BLUEPRINTS = frozenset({"webhooks"})
# Forms that check every field for a NUL byte themselves, to say which field holds it.
FIELD_CHECKED_ENDPOINTS = frozenset({"dashboard.enrol", "details.edit_peer"})


def whole_number(raw: str | None, low: int = 0, high: int = DATABASE_ID_MAX) -> int | None:
    """``raw`` as an int when it is plain ASCII digits within [low, high], else None."""
    if raw is None or not DIGITS.fullmatch(raw):
        return None
    value = int(raw)
    return value if low <= value <= high else None


def has_nul(values: dict[str, list[str]]) -> bool:
    return any("\x00" in key or any("\x00" in v for v in items) for key, items in values.items())


def refuse_nul_bytes() -> None:
    """Before every request: 400 when a form field or query parameter holds a NUL byte."""
    if request.blueprint in SIGNED_BLUEPRINTS:
        return
    if request.endpoint in FIELD_CHECKED_ENDPOINTS and not has_nul(
        request.args.to_dict(flat=False)
    ):
        return
    if has_nul(request.args.to_dict(flat=False)) or has_nul(request.form.to_dict(flat=False)):
        abort(400, description="A form field or parameter holds a NUL character.")
