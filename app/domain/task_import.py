"""Turning what users upload (JSON, JSON lines, CSV, TSV, text) into task items, row by row."""

import codecs
import csv
import io
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import IO, Any
from urllib.parse import urlsplit

import ijson
import orjson

from app.domain import json_text
from app.domain.errors import Invalid
from app.domain.label_config.values import is_number

TASK_KEYS = frozenset({"data", "meta", "annotations", "predictions", "allow_skip", "id", "inner_id"})

MAX_ID = 2**31 - 1  # user ids are 32-bit integers; anything larger names nobody
MAX_MODEL_VERSION = 200  # the column's length
# Python's csv module refuses a cell over 128 KiB; a cell is as long as the upload lets it be
MAX_CELL = 2**31 - 1
BOM = codecs.BOM_UTF8


@dataclass
class TaskItem:
    """One task to create, with what came inline."""

    data: dict[str, Any]
    meta: dict[str, Any] = field(default_factory=dict)
    annotations: list[dict[str, Any]] = field(default_factory=list)
    predictions: list[dict[str, Any]] = field(default_factory=list)
    allow_skip: bool = True


def task_item(raw: Any, row: int) -> TaskItem:
    """A flat object becomes the task's data; `{"data": ...}` is the full form."""
    where = f"task {row}"
    if not isinstance(raw, dict):
        raise Invalid(f"{where}: each task must be a JSON object", field="tasks")
    if not isinstance(raw.get("data"), dict):
        return TaskItem(data=raw)
    meta = raw.get("meta") or {}
    annotations = raw.get("annotations") or []
    predictions = raw.get("predictions") or []
    if not isinstance(meta, dict):
        raise Invalid(f"{where}: meta must be an object", field="meta")
    for name, value in (("annotations", annotations), ("predictions", predictions)):
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise Invalid(f"{where}: {name} must be a list of objects", field=name)
    allow_skip = raw.get("allow_skip", True)
    if not isinstance(allow_skip, bool):
        raise Invalid(f"{where}: allow_skip must be true or false", field="allow_skip")
    return TaskItem(raw["data"], meta, annotations, predictions, allow_skip)


def _holds_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(k) or _holds_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_holds_nul(v) for v in value)
    return False


def annotator_ref(annotation: dict[str, Any]) -> int | str | None:
    """Whom an inline annotation names: a user id, a lowercased email, or None (the importer).

    Label Studio exports an id; an expanded user object is matched by email first, which
    survives a move between servers where ids differ.
    """
    value = annotation.get("completed_by")
    if isinstance(value, dict):
        value = value.get("email") or value.get("id")
    if isinstance(value, str) and "@" in value:
        return value.strip().lower()
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_ID:
        return value
    return None


def model_version(prediction: Mapping[str, Any], where: str = "model_version") -> str:
    """A prediction's model version as stored: text of at most the column's length."""
    version = str(prediction.get("model_version") or "undefined")
    if len(version) > MAX_MODEL_VERSION:
        raise Invalid(f"{where} is longer than {MAX_MODEL_VERSION} characters", field="model_version")
    return version


def _encoded(whole: Any) -> bytes:
    try:
        return orjson.dumps(whole)
    except orjson.JSONEncodeError as exc:  # what parsing JSON gives that the JSON columns cannot hold
        raise Invalid(
            f"a value cannot be stored ({exc}): values nest at most 250 levels deep, and whole numbers "
            "fit in 64 bits",
            field="data",
        ) from None


def check_inline(item: TaskItem) -> None:
    """What a task brings must fit its columns: no NUL character in any text (PostgreSQL's text and
    jsonb cannot hold one), nesting the database's JSON encoder can write, inline annotations' flags
    and numbers, at most one ground truth, predictions' scores and model versions."""
    whole = (item.data, item.meta, item.annotations, item.predictions)
    if b"u0000" in _encoded(whole) and _holds_nul(whole):  # the scan only where the text may hold one
        raise Invalid("a text holds a NUL character (\\u0000), which the database cannot store", field="data")
    for i, annotation in enumerate(item.annotations):
        lead_time = annotation.get("lead_time")
        if lead_time is not None and not (is_number(lead_time) and lead_time >= 0):
            raise Invalid(
                f"annotations[{i}].lead_time must be a number of seconds, 0 or more", field="lead_time"
            )
        for flag in ("was_cancelled", "ground_truth"):
            if not isinstance(annotation.get(flag, False), bool | None):
                raise Invalid(f"annotations[{i}].{flag} must be true or false", field=flag)
    if sum(1 for a in item.annotations if a.get("ground_truth")) > 1:
        raise Invalid("only one annotation of a task can be its ground truth", field="ground_truth")
    for i, prediction in enumerate(item.predictions):
        score = prediction.get("score")
        if score is not None and not is_number(score):
            raise Invalid(f"predictions[{i}].score must be a number", field="score")
        model_version(prediction, f"predictions[{i}].model_version")


def items_from_json(value: Any) -> list[TaskItem]:
    """A list of tasks, or a single task object."""
    rows = value if isinstance(value, list) else [value]
    return [task_item(raw, i + 1) for i, raw in enumerate(rows)]


def iter_items(stream: IO[bytes], filename: str, text_key: str) -> Iterator[TaskItem]:
    """Tasks from an uploaded file, one at a time, so a file of any size needs little memory."""
    name = filename.lower()
    if name.endswith((".jsonl", ".ndjson")):
        return _json_lines(stream)
    if name.endswith(".json"):
        return _json_array(stream)
    if name.endswith((".csv", ".tsv")):
        return _delimited(stream, "," if name.endswith(".csv") else "\t")
    if name.endswith(".txt"):
        return (TaskItem(data={text_key: line.rstrip("\r\n")}) for line in _text(stream) if line.strip())
    raise Invalid(f"'{filename}': unsupported file type; use .json, .jsonl, .csv, .tsv or .txt", field="file")


SUFFIXES = (".json", ".jsonl", ".ndjson", ".csv", ".tsv", ".txt")
CONTENT_TYPES = {
    "application/json": ".json",
    "text/json": ".json",
    "application/x-ndjson": ".jsonl",
    "application/jsonl": ".jsonl",
    "application/json-lines": ".jsonl",
    "text/csv": ".csv",
    "text/tab-separated-values": ".tsv",
    "text/plain": ".txt",
}


def download_name(url: str, content_type: str) -> str:
    """A name for a downloaded file that `iter_items` understands: the URL's own file name when its
    extension is known (servers often call every file text/plain), else one from the content type."""
    path = urlsplit(url).path
    name = path.rstrip("/").rpartition("/")[2]
    if name.lower().endswith(SUFFIXES):
        return name if len(name) <= 100 else "download" + name[name.rindex(".") :]
    if suffix := CONTENT_TYPES.get(content_type):
        return f"download{suffix}"
    raise Invalid(
        f"cannot tell the format of '{name or path}' (content type '{content_type or 'none'}'); "
        "use a URL ending in .json, .jsonl, .csv, .tsv or .txt",
        field="url",
    )


def _after_bom(stream: IO[bytes]) -> int:
    """Position the stream past a UTF-8 byte order mark (Windows editors write one); where it is."""
    start = len(BOM) if stream.read(len(BOM)) == BOM else 0
    stream.seek(start)
    return start


def _json_array(stream: IO[bytes]) -> Iterator[TaskItem]:
    start = _after_bom(stream)
    head = stream.read(64).lstrip()
    stream.seek(start)
    if not head.startswith(b"["):
        try:
            yield from items_from_json(json_text.loads(stream.read()))
        except json.JSONDecodeError as exc:
            raise Invalid(f"the file is not valid JSON: {exc}", field="file") from None
        return
    row = 0
    try:
        for row, raw in enumerate(json_items(stream), start=1):
            yield task_item(raw, row)
    except ijson.JSONError as exc:
        raise Invalid(
            f"the file is not valid JSON at task {row + 1}: {_parser_message(exc)}", field="file"
        ) from None


# What ijson's C parser gets wrong: it refuses whole numbers past 64 signed bits, which the JSON
# columns hold up to 64 unsigned ones (each has 20 digits, or 19 beginning with 92 to 99; a
# nanosecond time has not), and turns an escaped half of a surrogate pair into "?" or an error
_HIGH = rb"\\u[dD][89abAB][0-9a-fA-F]{2}"
_LOW = rb"\\u[dD][c-fC-F][0-9a-fA-F]{2}"
MISREAD = re.compile(rb"\d{20}|9[2-9]\d{17}|%s(?!%s)|(?<!%s)%s" % (_HIGH, _LOW, _HIGH, _LOW))
_ESCAPED_D = re.compile(rb"\\u[dD]")  # in every surrogate case of MISREAD


def json_items(stream: IO[bytes]) -> Iterator[Any]:
    """The elements of a JSON array file, parsed as they are read: by ijson's C parser, or by its
    pure-Python one, slower but exact, when the file may hold what the C parser misreads."""
    parser = ijson.get_backend("python") if _may_be_misread(stream) else ijson
    items: Iterator[Any] = parser.items(stream, "item", use_float=True)
    return items


def _may_be_misread(stream: IO[bytes]) -> bool:
    """Whether the stream's text matches MISREAD anywhere (read in blocks, then rewound)."""
    start, overlap = stream.tell(), b""
    try:
        while block := stream.read(1 << 20):
            if _misread_in(overlap + block):
                return True
            overlap = block[-19:]
        return False
    finally:
        stream.seek(start)


def _misread_in(text: bytes) -> bool:
    """MISREAD's search, run only where what each of its cases holds is found first, far faster."""
    may = json_text.has_digit_run(text, 19) or _ESCAPED_D.search(text) is not None
    return may and MISREAD.search(text) is not None


def _parser_message(exc: ijson.JSONError) -> str:
    """The parser's reason without its multi-line excerpt of the file."""
    reason = exc.args[0] if exc.args else exc
    text = reason.decode("utf-8", "replace") if isinstance(reason, bytes) else str(reason)
    return text.strip().splitlines()[0] if text.strip() else "parse error"


def _json_lines(stream: IO[bytes]) -> Iterator[TaskItem]:
    _after_bom(stream)
    for number, line in enumerate(stream, start=1):
        if not line.strip():
            continue
        try:
            raw = json_text.loads(line)
        except json.JSONDecodeError as exc:
            raise Invalid(f"line {number} is not valid JSON: {exc}", field="file") from None
        yield task_item(raw, number)


def _text(stream: IO[bytes]) -> Iterator[str]:
    """Lines of a UTF-8 upload, newlines kept (the csv module needs them for quoted fields)."""
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
    try:
        yield from text
    except UnicodeDecodeError:
        raise Invalid(_undecodable(stream), field="file") from None
    finally:
        if not stream.closed:  # rows left unread are dropped when the request has closed the file
            text.detach()  # leave the caller's stream open


def _undecodable(stream: IO[bytes]) -> str:
    """Where the file stops being UTF-8, found again from its start a block at a time (a file
    without line breaks is never read whole): the decoder that failed reads ahead and cannot say
    which line it was on."""
    stream.seek(0)
    decoder = codecs.getincrementaldecoder("utf-8")()
    line = 1
    while True:
        block = stream.read(1 << 20)
        try:
            decoder.decode(block, final=not block)
        except UnicodeDecodeError as exc:
            held = len(exc.object) - len(block)  # the end of a character split by the block before
            line += block[: max(exc.start - held, 0)].count(b"\n")
            return (
                f"line {line}: byte 0x{exc.object[exc.start]:02x} is not UTF-8 text; save the file as UTF-8"
            )
        if not block:
            return "the file is not UTF-8 text; save it as UTF-8"
        line += block.count(b"\n")


def _delimited(stream: IO[bytes], delimiter: str) -> Iterator[TaskItem]:
    """CSV/TSV: the header row names the data keys; a ragged row is an error naming its line."""
    csv.field_size_limit(MAX_CELL)
    reader = csv.reader(_text(stream), delimiter=delimiter)
    header = next(reader, None)
    if not header:
        raise Invalid(
            "the file is empty: its first line must be a header row naming the columns", field="file"
        )
    if unnamed := [i for i, name in enumerate(header, start=1) if not name.strip()]:
        raise Invalid(
            f"line 1: the header row must name every column; column {unnamed[0]} has no name", field="file"
        )
    if len(set(header)) != len(header):
        raise Invalid("line 1: the header row repeats a column name", field="file")
    for row in reader:
        if not row:
            continue
        if len(row) != len(header):
            raise Invalid(
                f"line {reader.line_num}: {len(row)} fields where the header has {len(header)}", field="file"
            )
        yield TaskItem(data=dict(zip(header, row, strict=True)))
