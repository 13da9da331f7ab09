"""One renderer for every SMS body.

Bodies live in ``templates/messages/<lang>/<kind>/<variant>.txt``. The renderer
picks the peer's language (falling back to English), a variant (never the same
one twice in a row for a peer and kind), renders with ``StrictUndefined``,
folds whitespace, swaps characters that would force UCS-2 for their GSM-7
equivalents (:mod:`service.gsm7`), and reports the encoding and segment count.
With ``PROGRAM_DISCREET`` on, our wording is checked once per template against
:mod:`service.discretion`.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from service.crisis_lines import line_for
from service.discretion import discretion_problems
from service.gsm7 import is_gsm7, segment_count, to_gsm7
from service.models import MessageRotation
from service.settings import Settings

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates" / "messages"
DEFAULT_LANGUAGE = "en"


@dataclass(frozen=True)
class RenderedMessage:
    body: str
    kind: str
    language: str
    variant: str
    encoding: str  # GSM-7 | UCS-2
    segments: int

    @property
    def template(self) -> str:
        return f"{self.language}/{self.kind}/{self.variant}"


def clean_whitespace(text: str) -> str:
    """Trim lines and collapse runs of spaces; keep at most one blank line."""
    lines = [re.sub(r"[ \t]+", " ", line).strip() for line in text.strip().splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines))


@lru_cache(maxsize=4)
def environment(directory: str) -> Environment:
    return Environment(
        loader=FileSystemLoader(directory),
        undefined=StrictUndefined,
        autoescape=False,  # plain text for SMS, never HTML
        keep_trailing_newline=False,
    )


def variants(kind: str, language: str, directory: Path = TEMPLATES_DIR) -> list[str]:
    """Variant names (file stems) for a kind in a language, sorted."""
    return list(_variants(kind, language, directory))


@lru_cache(maxsize=1024)
def _variants(kind: str, language: str, directory: Path) -> tuple[str, ...]:
    # Templates ship with the code: listing a folder once per process is enough.
    folder = directory / language / kind
    return tuple(sorted(p.stem for p in folder.glob("*.txt"))) if folder.is_dir() else ()


def choose_language(kind: str, language: str | None, directory: Path = TEMPLATES_DIR) -> str:
    if language and variants(kind, language, directory):
        return language
    if variants(kind, DEFAULT_LANGUAGE, directory):
        return DEFAULT_LANGUAGE
    raise LookupError(f"no template for message kind {kind!r}")


def choose_variant(options: list[str], last: str | None, rng: random.Random | None = None) -> str:
    """Any variant but the last one sent, when there is a choice."""
    fresh = [option for option in options if option != last] or options
    return (rng or random).choice(fresh)


def render_template(
    kind: str,
    language: str | None,
    context: dict[str, Any],
    last_variant: str | None = None,
    directory: Path = TEMPLATES_DIR,
    variant: str | None = None,
) -> RenderedMessage:
    """Render one kind of message; the pure core of ``render_message``."""
    lang = choose_language(kind, language, directory)
    variant = variant or choose_variant(variants(kind, lang, directory), last_variant)
    raw = environment(str(directory)).get_template(f"{lang}/{kind}/{variant}.txt").render(context)
    body = to_gsm7(clean_whitespace(raw))
    encoding, segments = segment_count(body)
    return RenderedMessage(body, kind, lang, variant, encoding, segments)


# A peer's strengths and reasons are quoted in a nudge only when this short, so the
# nudge stays one segment; longer ones are shown to the specialist, not texted.
MAX_QUOTED_CHARS = 40


def quotable(text: str | None) -> str:
    text = to_gsm7(" ".join((text or "").split()))
    return text if len(text) <= MAX_QUOTED_CHARS and is_gsm7(text) else ""


def base_context(peer: Any, settings: Settings, phone: str | None = None) -> dict[str, Any]:
    """Values every template may use, for a peer or (peer None) the number ``phone``.

    ``crisis`` is the crisis line and emergency number that work where this phone
    is (``service.crisis_lines.CrisisLine``): templates never name 988 or 911.
    """
    specialist = getattr(peer, "specialist", None)
    return {
        "program_name": settings.program_name,
        "name": peer.display_name if peer is not None else "",
        "specialist_name": specialist.first_name if specialist is not None else "your specialist",
        "strengths": quotable(getattr(peer, "strengths", None)),
        "reasons": quotable(getattr(peer, "reasons", None)),
        "crisis": line_for(phone or (peer.phone if peer is not None else ""), settings),
    }


_discreet_templates: set[tuple[str, str]] = set()


def render_message(
    session: Any,
    kind: str,
    peer: Any,
    settings: Settings,
    *,
    phone: str | None = None,
    language: str | None = None,
    directory: Path = TEMPLATES_DIR,
    **context: Any,
) -> RenderedMessage:
    """Render a message for a peer, or for the number ``phone`` (peer None), rotating variants.

    A peer gets their own language; a number that is not enrolled gets ``language``
    (the one its text was written in).

    Remembers the variant per peer and kind in the session's transaction, so the
    next message of the same kind uses different words.
    """
    rotation = session.get(MessageRotation, (peer.id, kind)) if peer is not None else None
    values = base_context(peer, settings, phone) | context
    language = peer.language if peer is not None else language
    last = rotation.last_variant if rotation else None
    rendered = render_template(kind, language, values, last, directory)
    if settings.program_discreet:
        check_discretion(rendered, values, directory)
    if peer is not None:
        if rotation is None:
            session.add(MessageRotation(peer_id=peer.id, kind=kind, last_variant=rendered.variant))
        else:
            rotation.last_variant = rendered.variant
    return rendered


def check_discretion(rendered: RenderedMessage, values: dict[str, Any], directory: Path) -> None:
    """Our wording may not name treatment; the peer's own words may say what they like.

    Checked once per template and process, with the peer's words blanked out.
    """
    key = (str(directory), rendered.template)
    if key in _discreet_templates:
        return
    blanked = {k: "" if isinstance(v, str) else v for k, v in values.items()}
    template_only = render_template(
        rendered.kind, rendered.language, blanked, directory=directory, variant=rendered.variant
    )
    problems = discretion_problems(template_only.body)
    if problems:
        raise ValueError(f"template {rendered.template} {problems[0]}")
    _discreet_templates.add(key)
