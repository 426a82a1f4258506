"""Task agreement the way Label Studio Enterprise's Agreement V2 scores it.

One *dimension* per control (the results' `from_name`), scored with the default metric of its
tag, then a weighted mean over dimensions (peers.md §3.3-3.5):

- Exact Match (lists compared in order) for Choices, Taxonomy, Pairwise, DateTime and every tag
  without a better default (KeyPoint, Brush, Ellipse, Video, ...: the whole `value` must be equal);
- Numeric Difference `1 / (1 + |a - b|)` for Number and Rating;
- IoU for rectangles (rotated ones through polygons), exact polygon IoU for polygons;
- Span Overlap (1D IoU) for Labels, HyperTextLabels, ParagraphLabels, TimeSeriesLabels, TimelineLabels;
- Text Similarity `1 - lev / max(len)` for TextArea, line i against line i, extra lines scoring 0.

Shared rules: both sides empty for a control → 1.0, one empty → 0.0; regions with different
labels → 0.0; several items → two-way best match (each item of either side takes its best score on
the other side, all those maxima averaged, an unmatched item adding 0).

Per-region nested controls (a Choices or TextArea item carrying a region's `id`) are their own
dimension, scored by their own tag's metric, not multiplied by the region's IoU.

Weights follow a project's `control_weights`: `{from_name: {"overall": w, "labels": {label: w}}}`.
Dimensions weighted ≤ 0 are ignored; labels weighted 0 are removed before scoring (a region or a
choice item left with no label is dropped); other label weights do not scale scores.
"""

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from itertools import combinations
from typing import Any, Literal, TypeGuard

from app.domain.agreement.polygons import iou, polygon_iou

Methodology = Literal["pairwise", "consensus"]
Item = Mapping[str, Any]
Similarity = Callable[[Item, Item], float]

# Classification tags compare one key of `value`; per-region copies also carry the region's geometry.
_PAYLOAD_KEYS = {
    "choices": "choices",
    "taxonomy": "taxonomy",
    "pairwise": "selected",
    "datetime": "datetime",
    "number": "number",
    "rating": "rating",
    "textarea": "text",
}
_SPAN_TAGS = frozenset({"labels", "hypertextlabels", "paragraphlabels", "timeserieslabels", "timelinelabels"})


def annotation_agreement(
    a: list[dict[str, Any]],
    b: list[dict[str, Any]],
    controls: Mapping[str, str],
    weights: Mapping[str, Mapping[str, Any]] | None = None,
) -> float:
    """Agreement in [0, 1] of two annotations' results.

    The weighted mean of one score per control (see the module docstring), so the same pair always
    scores the same whichever task or methodology asks.
    """
    dims = _dimensions(controls, weights)
    ga, gb = _group(a, dims, weights), _group(b, dims, weights)
    return _weighted_mean(
        {name: _control_score(tag, ga[name], gb[name]) for name, (tag, _) in dims.items()}, dims
    )


def task_agreement(
    results: Sequence[list[dict[str, Any]]],
    controls: Mapping[str, str],
    weights: Mapping[str, Mapping[str, Any]] | None = None,
    methodology: Methodology = "pairwise",
    threshold: float = 0.5,
) -> float | None:
    """A task's agreement over its annotations; None with fewer than two.

    Pairwise: mean over unordered pairs of `annotation_agreement`. Consensus, per dimension as LSE
    stores it: a pair matches when its score is ≥ `threshold` (Exact Match scores are 0 or 1, so this
    is the categorical rule), and the dimension scores the largest group of mutually matching
    annotations over n, i.e. "the share of annotators who gave the most common answer".
    """
    n = len(results)
    if n < 2:
        return None
    dims = _dimensions(controls, weights)
    groups = [_group(r, dims, weights) for r in results]
    pairs = list(combinations(range(n), 2))
    scores: dict[str, float] = {}
    for name, (tag, _) in dims.items():
        pair_scores = {(i, j): _control_score(tag, groups[i][name], groups[j][name]) for i, j in pairs}
        if methodology == "pairwise":
            scores[name] = math.fsum(pair_scores.values()) / len(pairs)
        else:
            matches = [pair for pair, s in pair_scores.items() if s >= threshold]
            scores[name] = _largest_clique(n, matches) / n
    return _weighted_mean(scores, dims)


# --- dimensions and weights -------------------------------------------------------------------


def _dimensions(
    controls: Mapping[str, str], weights: Mapping[str, Mapping[str, Any]] | None
) -> dict[str, tuple[str, float]]:
    """The scored controls: name → (lower-case tag, overall weight), weights ≤ 0 left out."""
    dims: dict[str, tuple[str, float]] = {}
    for name, tag in controls.items():
        overall = (weights or {}).get(name, {}).get("overall")
        weight = 1.0 if overall is None else float(overall)
        if weight > 0:
            dims[name] = (tag.lower(), weight)
    return dims


def _weighted_mean(scores: Mapping[str, float], dims: Mapping[str, tuple[str, float]]) -> float:
    """Σ w·s / Σ w; 0.0 when no dimension carries weight (nothing to agree on)."""
    total = math.fsum(w for _, w in dims.values())
    if total == 0:
        return 0.0
    return math.fsum(dims[name][1] * s for name, s in scores.items()) / total


def _group(
    results: Iterable[Mapping[str, Any]],
    dims: Mapping[str, tuple[str, float]],
    weights: Mapping[str, Mapping[str, Any]] | None,
) -> dict[str, list[Item]]:
    """Non-empty items per scored control; relations, unknown controls and zero-weight labels dropped."""
    groups: dict[str, list[Item]] = {name: [] for name in dims}
    for item in results:
        name = item.get("from_name")
        if item.get("type") == "relation" or name not in groups:
            continue
        label_weights = (weights or {}).get(name, {}).get("labels") or {}
        kept = _without_zero_labels(item, label_weights)
        if kept is not None and not _is_blank(dims[name][0], kept):
            groups[name].append(kept)
    return groups


def _without_zero_labels(item: Item, label_weights: Mapping[str, Any]) -> Item | None:
    """The item minus its zero-weight labels (or choices); None when none of its labels remain."""
    key = item.get("type")
    value = item.get("value") or {}
    labels = value.get(key) if isinstance(key, str) else None
    if not label_weights or not _is_label_list(labels):
        return item
    kept = [label for label in labels if float(label_weights.get(label, 1.0)) != 0]
    if labels and not kept:
        return None
    return {**item, "value": {**value, key: kept}}


def _is_label_list(labels: Any) -> TypeGuard[list[str]]:
    return isinstance(labels, list) and all(isinstance(label, str) for label in labels)


def _is_blank(tag: str, item: Item) -> bool:
    """A classification item with nothing chosen or typed counts as absent."""
    key = _PAYLOAD_KEYS.get(tag)
    if key is None:
        return False
    payload = (item.get("value") or {}).get(key)
    if isinstance(payload, list):
        return not any(x not in ("", None, []) for x in payload)
    return payload is None or payload == ""


# --- one control --------------------------------------------------------------------------------


def _control_score(tag: str, a: Sequence[Item], b: Sequence[Item]) -> float:
    """Two-way best match of one control's items; both empty → 1, one empty → 0."""
    if not a and not b:
        return 1.0
    if not a or not b:
        return 0.0
    similarity = _readable(_similarity(tag))
    table = [[similarity(x, y) for y in b] for x in a]
    maxima = [max(row) for row in table] + [max(column) for column in zip(*table, strict=True)]
    return math.fsum(maxima) / len(maxima)


def _readable(similarity: Similarity) -> Similarity:
    """An item the metric cannot read (a region without its geometry, kept from an older config or
    an import) matches only an identical item, rather than failing the request that scores it."""

    def score(a: Item, b: Item) -> float:
        try:
            return similarity(a, b)
        except (KeyError, TypeError, ValueError, IndexError, ZeroDivisionError):
            return float(a == b)

    return score


def _similarity(tag: str) -> Similarity:
    """The V2 default metric of a tag."""
    if tag in ("rectanglelabels", "rectangle"):
        return _labelled(_box_iou)
    if tag in ("polygonlabels", "polygon"):
        return _labelled(lambda a, b: polygon_iou(_value(a)["points"], _value(b)["points"]))
    if tag in _SPAN_TAGS:
        return _labelled(_span_iou)
    if tag == "textarea":
        return _text_lines_similarity
    if tag in ("number", "rating"):
        return lambda a, b: _numeric_difference(_value(a)[tag], _value(b)[tag])
    key = _PAYLOAD_KEYS.get(tag)
    if key is None:
        return lambda a, b: float(_value(a) == _value(b))
    return lambda a, b: float(_value(a).get(key) == _value(b).get(key))


def _value(item: Item) -> Mapping[str, Any]:
    value: Mapping[str, Any] = item.get("value") or {}
    return value


def _labelled(geometry: Similarity) -> Similarity:
    """Regions score 0 unless their label sets are equal, then by geometry."""

    def similarity(a: Item, b: Item) -> float:
        return geometry(a, b) if _labels(a) == _labels(b) else 0.0

    return similarity


def _labels(item: Item) -> list[str]:
    labels = _value(item).get(str(item.get("type")))
    return sorted(labels) if _is_label_list(labels) else []


# --- metrics ------------------------------------------------------------------------------------


def _numeric_difference(a: Any, b: Any) -> float:
    return 1.0 / (1.0 + abs(float(a) - float(b)))


def _text_lines_similarity(a: Item, b: Item) -> float:
    """Line i of A against line i of B; lines only one side has score 0."""
    lines_a, lines_b = _lines(a), _lines(b)
    count = max(len(lines_a), len(lines_b))
    if count == 0:
        return 1.0
    return math.fsum(_text_similarity(x, y) for x, y in zip(lines_a, lines_b, strict=False)) / count


def _lines(item: Item) -> list[str]:
    text = _value(item).get("text")
    if text is None:
        return []
    return [text] if isinstance(text, str) else [str(line) for line in text]


def _text_similarity(a: str, b: str) -> float:
    """`1 - lev(a, b) / max(len a, len b)`, 1.0 for two empty strings."""
    longest = max(len(a), len(b))
    return 1.0 if longest == 0 else 1.0 - _levenshtein(a, b) / longest


def _levenshtein(a: str, b: str) -> int:
    """Character edit distance, bit-parallel (Hyyrö 2003) so long transcriptions stay fast."""
    if len(a) < len(b):
        a, b = b, a
    m = len(b)
    if m == 0:
        return len(a)
    masks: dict[str, int] = {}
    for i, char in enumerate(b):
        masks[char] = masks.get(char, 0) | (1 << i)
    full, top = (1 << m) - 1, 1 << (m - 1)
    plus, minus, distance = full, 0, m
    for char in a:
        eq = masks.get(char, 0)
        xv = eq | minus
        xh = (((eq & plus) + plus) ^ plus) | eq
        ph = minus | ~(xh | plus)
        mh = plus & xh
        if ph & top:
            distance += 1
        elif mh & top:
            distance -= 1
        ph = (ph << 1) | 1
        mh <<= 1
        plus = (mh | ~(xv | ph)) & full
        minus = ph & xv & full
    return distance


# --- spans --------------------------------------------------------------------------------------

Interval = tuple[float, float]


def _span_iou(a: Item, b: Item) -> float:
    """1D IoU of text, HTML, paragraph, time-series or timeline spans."""
    anchor_a, spans_a = _span(_value(a))
    anchor_b, spans_b = _span(_value(b))
    if anchor_a != anchor_b:
        return 0.0
    merged_a, merged_b = _merge(spans_a), _merge(spans_b)
    inter = _overlap(merged_a, merged_b)
    union = _length(merged_a) + _length(merged_b) - inter
    return iou(inter, union, sorted(spans_a) == sorted(spans_b))


def _span(value: Mapping[str, Any]) -> tuple[Any, list[Interval]]:
    """(anchor, half-open intervals): only spans with equal anchors can overlap.

    Text spans use `start`/`end`; HTML and paragraph spans their `globalOffsets` when present, else
    `startOffset`/`endOffset` inside the node or paragraph named by `start`/`end`. A span across
    nodes has no comparable 1D extent without the document, so it matches only an identical span.
    Timeline ranges are inclusive frame numbers.
    """
    if "ranges" in value:
        return None, [(float(r["start"]), float(r["end"]) + 1) for r in value["ranges"]]
    offsets = value.get("globalOffsets")
    if isinstance(offsets, Mapping):
        return None, [(float(offsets["start"]), float(offsets["end"]))]
    if "startOffset" in value:
        nodes = (value.get("start"), value.get("end"))
        if nodes[0] != nodes[1]:
            return (*nodes, value["startOffset"], value.get("endOffset")), [(0.0, 1.0)]
        return nodes, [(float(value["startOffset"]), float(value["endOffset"]))]
    try:
        return None, [(float(value["start"]), float(value["end"]))]
    except (TypeError, ValueError):  # e.g. time-series stamps as date strings
        return (value["start"], value["end"]), [(0.0, 1.0)]


def _merge(spans: Iterable[Interval]) -> list[Interval]:
    merged: list[Interval] = []
    for lo, hi in sorted((min(s), max(s)) for s in spans):
        if merged and lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(hi, merged[-1][1]))
        else:
            merged.append((lo, hi))
    return merged


def _length(spans: Iterable[Interval]) -> float:
    return math.fsum(hi - lo for lo, hi in spans)


def _overlap(a: Sequence[Interval], b: Sequence[Interval]) -> float:
    return math.fsum(max(0.0, min(x[1], y[1]) - max(x[0], y[0])) for x in a for y in b)


# --- rectangles and polygons --------------------------------------------------------------------


def _box_iou(a: Item, b: Item) -> float:
    """Axis-aligned IoU; a rotated box goes through the polygon IoU (rotation is in pixels)."""
    va, vb = _value(a), _value(b)
    if va.get("rotation") or vb.get("rotation"):
        return polygon_iou(_corners(a), _corners(b))
    ax0, ay0, ax1, ay1 = _box(va)
    bx0, by0, bx1, by1 = _box(vb)
    inter = max(0.0, min(ax1, bx1) - max(ax0, bx0)) * max(0.0, min(ay1, by1) - max(ay0, by0))
    union = (ax1 - ax0) * (ay1 - ay0) + (bx1 - bx0) * (by1 - by0) - inter
    return iou(inter, union, _box(va) == _box(vb))


def _box(value: Mapping[str, Any]) -> tuple[float, float, float, float]:
    x, y = float(value["x"]), float(value["y"])
    return x, y, x + float(value["width"]), y + float(value["height"])


def _corners(item: Item) -> list[tuple[float, float]]:
    """A box's corners in pixels when the image size is known (LS rotates about the top-left corner)."""
    value = _value(item)
    sx, sy = float(item.get("original_width", 100)) / 100, float(item.get("original_height", 100)) / 100
    x, y, w, h = (
        float(value["x"]) * sx,
        float(value["y"]) * sy,
        float(value["width"]) * sx,
        float(value["height"]) * sy,
    )
    angle = math.radians(float(value.get("rotation") or 0))
    cos, sin = math.cos(angle), math.sin(angle)
    return [
        (x, y),
        (x + w * cos, y + w * sin),
        (x + w * cos - h * sin, y + w * sin + h * cos),
        (x - h * sin, y + h * cos),
    ]


# --- consensus ----------------------------------------------------------------------------------


def _largest_clique(n: int, matches: Iterable[tuple[int, int]]) -> int:
    """Size of the largest group of mutually matching annotations (Bron-Kerbosch with pivoting)."""
    neighbours: list[set[int]] = [set() for _ in range(n)]
    for i, j in matches:
        neighbours[i].add(j)
        neighbours[j].add(i)
    best = 1

    def expand(size: int, candidates: set[int], excluded: set[int]) -> None:
        nonlocal best
        if not candidates and not excluded:
            best = max(best, size)
            return
        if size + len(candidates) <= best:
            return
        pivot = max(candidates | excluded, key=lambda v: len(neighbours[v] & candidates))
        for v in list(candidates - neighbours[pivot]):
            expand(size + 1, candidates & neighbours[v], excluded & neighbours[v])
            candidates.discard(v)
            excluded.add(v)

    expand(0, set(range(n)), set())
    return best
