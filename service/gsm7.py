"""GSM-7, the alphabet an SMS is cheapest in: which characters it has, and segments.

A text that holds one character outside GSM 03.38 (an emoji, a curly quote) is
sent as UCS-2: 70 characters a segment instead of 160, so it costs about twice
as much. Characters phones and editors insert are swapped for their GSM-7
look-alikes before that can happen.
"""

from __future__ import annotations

# GSM 03.38 basic set and extension table (extension characters count double).
GSM7_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = set("^{}\\[~]|€")
# Characters phones and editors insert that would switch a message to UCS-2.
GSM7_REPLACEMENTS = {
    "\u00a0": " ",  # non-breaking space
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"',
    "\u2013": "-", "\u2014": "-", "\u2212": "-",
    "\u2026": "...",
    "\u2022": "-",
    "\u00b4": "'", "`": "'",
    "\u00e1": "a", "\u00ed": "i", "\u00f3": "o", "\u00fa": "u", "\u00c1": "A",
    "\u00cd": "I", "\u00d3": "O", "\u00da": "U", "\u00e7": "c",
}  # fmt: skip


def to_gsm7(text: str) -> str:
    """Replace look-alike characters that would force UCS-2 with GSM-7 ones."""
    return "".join(GSM7_REPLACEMENTS.get(char, char) for char in text)


def is_gsm7(text: str) -> bool:
    return all(char in GSM7_BASIC or char in GSM7_EXTENDED for char in text)


def segment_count(text: str) -> tuple[str, int]:
    """The encoding a phone network would use for this text, and its segment count."""
    if is_gsm7(text):
        units = sum(2 if char in GSM7_EXTENDED else 1 for char in text)
        single, multi, encoding = 160, 153, "GSM-7"
    else:
        units = sum(2 if ord(char) > 0xFFFF else 1 for char in text)
        single, multi, encoding = 70, 67, "UCS-2"
    if units <= single:
        return encoding, 1
    return encoding, -(-units // multi)
