"""Quoting user-supplied text in error messages without echoing megabytes of it back."""

from collections.abc import Iterable

_CLIP = 60
_MAX_LISTED = 20


def clip(value: object) -> str:
    """`value` as text, cut to a readable length."""
    text = str(value)
    return text if len(text) <= _CLIP else text[: _CLIP - 3] + "..."


def listing(values: Iterable[object]) -> str:
    """A short comma list of known names for "expected one of" hints."""
    items = [clip(value) for value in values]
    if not items:
        return "none"
    return ", ".join(items[:_MAX_LISTED]) + (", ..." if len(items) > _MAX_LISTED else "")
