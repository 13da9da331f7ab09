"""Which language a text is in: English or Spanish, from its most common words."""

from __future__ import annotations

from service.understanding.normalise import Normalised

SPANISH = set(
    [
        "que",
        "de",
        "no",
        "la",
        "el",
        "en",
        "y",
        "los",
        "las",
        "por",
        "para",
        "con",
        "una",
        "un",
        "es",
        "mi",
        "me",
        "ya",
        "quiero",
        "mas",
        "estoy",
        "hoy",
        "pero",
        "mensajes",
        "gracias",
        "favor",
        "si",
        "lo",
        "hice",
        "todavia",
        "aun",
        "manana",
        "tarde",
        "noche",
        "metas",
        "ayuda",
        "bien",
        "muy",
        "nada",
        "porque",
        "tambien",
        "hola",
        "esta",
        "estas",
        "son",
        "soy",
        "tengo",
        "vida",
        "mis",
        "te",
        "se",
        "le",
        "dia",
        "dias",
        "semana",
    ]
)
ENGLISH = set(
    [
        "the",
        "i",
        "you",
        "to",
        "and",
        "a",
        "it",
        "is",
        "of",
        "my",
        "me",
        "this",
        "that",
        "in",
        "for",
        "not",
        "do",
        "did",
        "done",
        "yes",
        "today",
        "so",
        "be",
        "are",
        "was",
        "have",
        "with",
        "just",
        "but",
        "what",
        "can",
        "texts",
        "please",
        "stop",
        "am",
        "going",
        "want",
        "thanks",
        "week",
        "day",
    ]
)


def language_of(text: Normalised, default: str = "en") -> str:
    """``es`` or ``en``; the peer's own language when the words do not say."""
    tokens = text.tokens
    spanish = sum(token in SPANISH for token in tokens)
    english = sum(token in ENGLISH for token in tokens)
    if spanish > english:
        return "es"
    if english > spanish:
        return "en"
    return default if default in ("en", "es") else "en"
