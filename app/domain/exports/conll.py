"""CONLL2003: whitespace tokens of the text with B-/I- tags from the annotated spans."""

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from app.domain.exports.context import ExportContext
from app.domain.exports.json_tasks import completed
from app.domain.exports.writer import ExportWriter

TOKEN = re.compile(r"\S+")


@dataclass(frozen=True)
class Span:
    start: int
    end: int  # exclusive, as Label Studio's character offsets
    label: str


def text_spans(context: ExportContext) -> tuple[str | None, frozenset[str]]:
    """The data key of the first text with a Labels control, and the Labels controls on it."""
    controls = [c for c in context.of_type("Labels") if c.object_tag == "Text"]
    data_key = controls[0].data_key if controls else None
    return data_key, frozenset(c.name for c in controls if c.data_key == data_key)


class ConllWriter(ExportWriter):
    """One block per submitted annotation (a task without annotations gives one block of `O`),
    each followed by a blank line, as Label Studio's converter writes them.
    """

    media_type = "text/plain"
    extension = "conll"

    def __init__(self, context: ExportContext) -> None:
        self.data_key, self.controls = text_spans(context)

    def start(self) -> bytes:
        return b"-DOCSTART- -X- O\n"

    def write(self, task: dict[str, Any]) -> bytes:
        text = task.get("data", {}).get(self.data_key or "")
        if not isinstance(text, str):
            return b""
        annotations = task.get("annotations") or []
        results = [a.get("result") or [] for a in completed(task)]
        if not annotations:
            results = [[]]
        return "".join(self._block(text, result) for result in results).encode()

    def finish(self) -> bytes:
        return b""

    def _block(self, text: str, result: list[dict[str, Any]]) -> str:
        spans = sorted(self._spans(result), key=lambda span: span.start)
        return "".join(f"{token} -X- _ {tag}\n" for token, tag in tag_tokens(text, spans)) + "\n"

    def _spans(self, result: list[dict[str, Any]]) -> Iterator[Span]:
        for item in result:
            value = item.get("value")
            if item.get("from_name") not in self.controls or not isinstance(value, dict):
                continue
            start, end, labels = value.get("start"), value.get("end"), value.get("labels")
            if isinstance(start, int) and isinstance(end, int) and isinstance(labels, list) and labels:
                yield Span(start, end, str(labels[0]))


def tag_tokens(text: str, spans: list[Span]) -> Iterator[tuple[str, str]]:
    """Each token with `B-<label>` if it starts a span, `I-<label>` inside one, `O` outside.

    A token belongs to the first span (by start) it overlaps; `spans` must be sorted by start.
    """
    index, previous = 0, None
    for match in TOKEN.finditer(text):
        while index < len(spans) and spans[index].end <= match.start():
            index += 1
        span = spans[index] if index < len(spans) and spans[index].start < match.end() else None
        if span is None:
            yield match.group(), "O"
        else:
            yield match.group(), f"{'I' if span is previous else 'B'}-{span.label}"
        previous = span
