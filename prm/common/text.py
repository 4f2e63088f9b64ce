"""Checks of user text before it reaches the database or an e-mail header.

PostgreSQL refuses NUL in text (DataError); a name with a line break or another control character
ends up in e-mail subjects (BadHeaderError) and log lines. Services call these for every name
they store; `header_text` makes anything safe for a header line anyway.
"""

from __future__ import annotations

import re

from django.db.models import Model

from prm.common.errors import ValidationFailed

# C0 and C1 control characters (tab, CR and LF among them) and the Unicode line and paragraph
# separators: none belongs in a one-line name.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


_SURROGATE = re.compile("[\ud800-\udfff]")


def unstorable(text: str) -> str | None:
    """Why PostgreSQL cannot store text (NUL; a lone surrogate cannot even be encoded), or None."""
    if "\x00" in text:
        return "Text may not contain NUL characters (\\u0000)."
    if _SURROGATE.search(text):
        return "Text may not contain unpaired surrogates (\\ud800-\\udfff)."
    return None


def model_max_length(model: type[Model], field: str) -> int:
    """The column's bound, for serializers and forms that must check it before the database."""
    return model._meta.get_field(field).max_length


def has_control_characters(text: str) -> bool:
    return bool(_CONTROL.search(text or ""))


def clean_single_line(
    value, *, field: str, label: str, max_length: int | None = None, required: bool = True
) -> str:
    """value stripped; refuses (ValidationFailed naming `field`) an empty one when required, one
    with control characters (line breaks, tabs, NUL) and one longer than max_length."""
    text = ("" if value is None else str(value)).strip()
    if not text and required:
        raise ValidationFailed(f"The {label} is required.", extra={field: ["This field is required."]})
    if _CONTROL.search(text):
        message = f"The {label} may not contain line breaks, tabs or other control characters."
        raise ValidationFailed(message, extra={field: [message]})
    if max_length is not None and len(text) > max_length:
        message = f"The {label} is too long ({max_length} characters at most)."
        raise ValidationFailed(message, extra={field: [message]})
    return text


def header_text(text, *, max_length: int = 200) -> str:
    """text on one line for an e-mail subject or another header: control characters become
    spaces, runs of spaces one, and it is cut to max_length."""
    flat = " ".join(_CONTROL.sub(" ", "" if text is None else str(text)).split())
    return flat if len(flat) <= max_length else flat[: max_length - 1].rstrip() + "…"
