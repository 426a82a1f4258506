"""Agreement V2 on Label Studio results: the worked examples of peers.md §4.3 (L1-L16), the shared rules
of §3.4, and the properties every metric must keep (symmetry, identity)."""

import math
import random
from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.agreement import annotation_agreement, task_agreement

pytestmark = pytest.mark.core

TOL = 1e-6
Result = dict[str, Any]

BOX = {"box": "RectangleLabels"}
NER = {"ner": "Labels"}
SENTIMENT = {"sentiment": "Choices"}


# --- LS-shaped results ---------------------------------------------------------------------------


def rect(
    x: float, y: float, w: float, h: float, label: str = "Car", name: str = "box", **value: Any
) -> Result:
    return {
        "id": f"{name}-{x}-{y}-{label}",
        "from_name": name,
        "to_name": "image",
        "type": "rectanglelabels",
        "value": {
            "x": x,
            "y": y,
            "width": w,
            "height": h,
            "rotation": 0,
            "rectanglelabels": [label],
            **value,
        },
    }


def polygon(points: Sequence[Sequence[float]], label: str = "Car", name: str = "poly") -> Result:
    return {
        "from_name": name,
        "to_name": "image",
        "type": "polygonlabels",
        "value": {"points": points, "polygonlabels": [label]},
    }


def span(start: int, end: int, label: str, name: str = "ner") -> Result:
    return {
        "from_name": name,
        "to_name": "text",
        "type": "labels",
        "value": {"start": start, "end": end, "labels": [label]},
    }


def offsets(node: str, start: int, end: int, label: str = "Quote", kind: str = "hypertextlabels") -> Result:
    value = {"start": node, "end": node, "startOffset": start, "endOffset": end, kind: [label]}
    return {"from_name": "html", "to_name": "doc", "type": kind, "value": value}


def choices(*picked: str, name: str = "sentiment") -> Result:
    return {"from_name": name, "to_name": "text", "type": "choices", "value": {"choices": list(picked)}}


def text(*lines: str, name: str = "comment") -> Result:
    return {"from_name": name, "to_name": "text", "type": "textarea", "value": {"text": list(lines)}}


def number(n: float, name: str = "amount", kind: str = "number") -> Result:
    return {"from_name": name, "to_name": "text", "type": kind, "value": {kind: n}}


def taxonomy(*paths: list[str]) -> Result:
    return {"from_name": "tax", "to_name": "text", "type": "taxonomy", "value": {"taxonomy": list(paths)}}


# --- L1-L16 --------------------------------------------------------------------------------------


def test_l1_box_iou_and_its_threshold_under_consensus() -> None:
    a, b = [rect(0, 0, 30, 10)], [rect(10, 0, 30, 10)]
    assert annotation_agreement(a, b, BOX) == pytest.approx(0.5, abs=TOL)
    # Two annotators: a match at T puts both in one group (1.0), a miss leaves groups of one (1/2).
    assert task_agreement([a, b], BOX, methodology="consensus", threshold=0.5) == 1.0
    assert task_agreement([a, b], BOX, methodology="consensus", threshold=0.75) == 0.5


def test_l2_ls_doc_boxes() -> None:
    score = annotation_agreement([rect(10, 20, 100, 80)], [rect(30, 20, 100, 80)], BOX)
    assert score == pytest.approx(6400 / 9600, abs=TOL)


def test_l3_contained_disjoint_and_relabelled_boxes() -> None:
    assert annotation_agreement([rect(0, 0, 100, 100)], [rect(25, 25, 50, 50)], BOX) == pytest.approx(0.25)
    assert annotation_agreement([rect(0, 0, 10, 10)], [rect(50, 50, 10, 10)], BOX) == 0.0
    assert annotation_agreement([rect(0, 0, 10, 10, "Car")], [rect(0, 0, 10, 10, "Bus")], BOX) == 0.0


def test_l4_two_way_greedy_match_of_boxes() -> None:
    a = [rect(0, 0, 100, 100, "dog"), rect(200, 0, 100, 100, "cat")]
    b = [rect(0, 0, 67, 100, "dog"), rect(200, 0, 85, 100, "cat")]
    assert annotation_agreement(a, b, BOX) == pytest.approx((0.67 + 0.85 + 0.67 + 0.85) / 4, abs=TOL)


def test_l5_span_overlap_greedy_and_an_unmatched_span() -> None:
    a = [span(0, 14, "Person"), span(41, 47, "Location")]
    b = [span(4, 14, "Person"), span(41, 58, "Location")]
    assert annotation_agreement(a, b, NER) == pytest.approx(0.533613, abs=TOL)
    assert annotation_agreement(a, b[:1], NER) == pytest.approx(0.476190, abs=TOL)


def test_l6_three_annotators_continuous_pairwise_and_consensus() -> None:
    # x-extents (in 29ths) chosen so that IoU(1,2) = 0.53, IoU(1,3) = 0.24, IoU(2,3) = 0.45.
    boxes = [(0, 2900), (0, 1537), (844, 1540)]
    results = [[rect(lo / 29, 0, (hi - lo) / 29, 10)] for lo, hi in boxes]
    assert annotation_agreement(results[0], results[1], BOX) == pytest.approx(0.53, abs=TOL)
    assert annotation_agreement(results[0], results[2], BOX) == pytest.approx(0.24, abs=TOL)
    assert annotation_agreement(results[1], results[2], BOX) == pytest.approx(0.45, abs=TOL)
    assert task_agreement(results, BOX) == pytest.approx(0.406667, abs=TOL)
    assert task_agreement(results, BOX, methodology="consensus", threshold=0.5) == pytest.approx(2 / 3)


@pytest.mark.parametrize(
    ("picks", "pairwise", "consensus"),
    [(("A", "B", "C"), 0.0, 1 / 3), (("A", "A", "C"), 1 / 3, 2 / 3), (("A", "A", "A"), 1.0, 1.0)],
)
def test_l7_categorical_three_annotators(picks: tuple[str, ...], pairwise: float, consensus: float) -> None:
    results = [[choices(p)] for p in picks]
    assert task_agreement(results, SENTIMENT) == pytest.approx(pairwise, abs=TOL)
    assert task_agreement(results, SENTIMENT, methodology="consensus") == pytest.approx(consensus, abs=TOL)


def test_l8_spans_with_a_different_label_score_zero() -> None:
    results = [[span(0, 14, "Positive")], [span(10, 14, "Positive")], [span(10, 14, "Negative")]]
    assert annotation_agreement(results[0], results[1], NER) == pytest.approx(4 / 14, abs=TOL)
    assert annotation_agreement(results[1], results[2], NER) == 0.0
    assert task_agreement(results, NER) == pytest.approx(0.095238, abs=TOL)


def test_l9_weighted_overall() -> None:
    # Exact-match Choices can only score 0 or 1, so the 0.3-weighted dimension scoring 0.33 is a TextArea.
    controls = {"box": "RectangleLabels", "comment": "TextArea", "rating": "Rating"}
    weights = {"box": {"overall": 1.0}, "comment": {"overall": 0.3}, "rating": {"overall": 0.2}}
    a = [rect(0, 0, 100, 100), text("a" * 100), number(0, "rating", "rating")]
    b = [rect(0, 0, 83, 100), text("a" * 33 + "b" * 67), number(67 / 33, "rating", "rating")]
    for name, expected in [("box", 0.83), ("comment", 0.33), ("rating", 0.33)]:
        assert annotation_agreement(a, b, {name: controls[name]}) == pytest.approx(expected, abs=TOL)
    assert annotation_agreement(a, b, controls, weights) == pytest.approx(0.663333, abs=TOL)


@pytest.mark.parametrize(
    ("label_weight", "choice_weight", "expected"),
    [(None, None, 0.5), (0, 1, 1.0), (1, 0, 0.0), (0, 0, 0.0)],
)
def test_l10_overall_weights_of_evalme(
    label_weight: float | None, choice_weight: float | None, expected: float
) -> None:
    controls = {"label": "Labels", "choice": "Choices"}
    a = [span(0, 5, "PER", name="label"), choices("Yes", name="choice")]
    b = [span(0, 5, "ORG", name="label"), choices("Yes", name="choice")]
    weights: dict[str, dict[str, Any]] | None = None
    if label_weight is not None:
        weights = {"label": {"overall": label_weight}, "choice": {"overall": choice_weight}}
    assert annotation_agreement(a, b, controls, weights) == pytest.approx(expected, abs=TOL)


def test_l10_rect_mismatch_and_textarea_match() -> None:
    controls = {"box": "RectangleLabels", "comment": "TextArea"}
    weights = {
        "box": {"type": "RectangleLabels", "overall": 0.15},
        "comment": {"type": "TextArea", "overall": 1},
    }
    a = [rect(0, 0, 10, 10, "Car"), text("a red car")]
    b = [rect(0, 0, 10, 10, "Airplane"), text("a red car")]
    assert annotation_agreement(a, b, controls, weights) == pytest.approx(0.8695652173913044, abs=TOL)


@pytest.mark.parametrize(
    ("x", "y", "expected"),
    [(4, 4, 1.0), (4, 5, 0.5), (5, 3, 1 / 3), (5, 1, 0.2), (30, 35, 1 / 6), (30, 50, 0.047619)],
)
@pytest.mark.parametrize("kind", ["number", "rating"])
def test_l11_numeric_difference(x: int, y: int, expected: float, kind: str) -> None:
    controls = {"amount": kind.capitalize()}
    score = annotation_agreement([number(x, kind=kind)], [number(y, kind=kind)], controls)
    assert score == pytest.approx(expected, abs=TOL)


def test_l12_multi_select_choices_use_exact_match_in_order() -> None:
    # The Jaccard values of L12 belong to a non-default metric; the V2 default is Exact Match.
    mine = choices("Sports", "Politics", "Technology")
    assert annotation_agreement([mine], [choices("Politics", "Technology", "Health")], SENTIMENT) == 0.0
    assert annotation_agreement([mine], [choices("Sports")], SENTIMENT) == 0.0
    assert (
        annotation_agreement([choices("Sports", "Politics")], [choices("Politics", "Sports")], SENTIMENT)
        == 0.0
    )
    assert annotation_agreement([choices()], [], SENTIMENT) == 1.0


def test_l13_taxonomy_uses_exact_match() -> None:
    # Common Subtree / Common Labels of L13 are non-default metrics; the V2 default is Exact Match.
    controls = {"tax": "Taxonomy"}
    labrador, poodle = ["Animals", "Dogs", "Labrador"], ["Animals", "Dogs", "Poodle"]
    assert annotation_agreement([taxonomy(labrador)], [taxonomy(poodle)], controls) == 0.0
    assert annotation_agreement([taxonomy(labrador, poodle)], [taxonomy(labrador, poodle)], controls) == 1.0


@pytest.mark.parametrize(
    ("x", "y", "expected"),
    [
        ("The cat sat on the mat", "The cat sat on the mat.", 0.956522),
        ("The cat sat on the mat", "The cat sit on the mat", 0.954545),
        ("hello", "world", 0.2),
        ("123 Main St", "123 Main Street", 0.733333),
        ("Excellent tool", "tool", 4 / 14),
    ],
)
def test_l14_text_similarity(x: str, y: str, expected: float) -> None:
    assert annotation_agreement([text(x)], [text(y)], {"comment": "TextArea"}) == pytest.approx(
        expected, abs=TOL
    )


def test_l14_textarea_lines_pair_up_and_extra_lines_score_zero() -> None:
    a = [text("hello", "123 Main St", "same")]
    b = [text("world", "123 Main Street")]
    expected = (0.2 + 11 / 15 + 0) / 3
    assert annotation_agreement(a, b, {"comment": "TextArea"}) == pytest.approx(expected, abs=TOL)


def test_l16_exact_matching_over_three_controls() -> None:
    controls = {"topic": "Choices", "tone": "Choices", "flag": "Choices"}
    a = [choices("A", name="topic"), choices("B", name="tone")]
    b = [choices("A", name="topic"), choices("C", name="tone")]
    assert annotation_agreement(a, b, controls) == pytest.approx(2 / 3, abs=TOL)


def test_s6_lse_pairwise_and_consensus() -> None:
    items = [("a", "a", "b"), ("a", "a", "a"), ("b", "b", "b"), ("a", "b", "c"), ("c", "c", "c")]
    tasks = [[[choices(c)] for c in item] for item in items]
    pairwise = [task_agreement(t, SENTIMENT) for t in tasks]
    consensus = [task_agreement(t, SENTIMENT, methodology="consensus") for t in tasks]
    assert consensus == pytest.approx([2 / 3, 1, 1, 1 / 3, 1], abs=TOL)
    assert math.fsum(p or 0 for p in pairwise) / 5 == pytest.approx(0.666667, abs=TOL)
    assert math.fsum(c or 0 for c in consensus) / 5 == pytest.approx(0.8, abs=TOL)


# --- shared rules --------------------------------------------------------------------------------


def test_empty_on_both_sides_agrees_and_on_one_side_does_not() -> None:
    assert annotation_agreement([], [], BOX) == 1.0
    assert annotation_agreement([rect(0, 0, 1, 1)], [], BOX) == 0.0
    assert annotation_agreement([text("")], [], {"comment": "TextArea"}) == 1.0


def test_fewer_than_two_annotations_have_no_agreement() -> None:
    assert task_agreement([], BOX) is None
    assert task_agreement([[rect(0, 0, 1, 1)]], BOX) is None


def test_unknown_control_is_ignored() -> None:
    a = [choices("A"), choices("B", name="removed_from_config")]
    assert annotation_agreement(a, [choices("A")], SENTIMENT) == 1.0


def test_relations_and_items_without_from_name_are_ignored() -> None:
    a = [
        span(0, 4, "PER"),
        {"from_id": "x", "to_id": "y", "type": "relation", "direction": "right", "labels": ["knows"]},
        {"from_name": "ner", "from_id": "x", "to_id": "y", "type": "relation", "value": {}},
        {"to_name": "text", "type": "labels", "value": {"start": 9, "end": 12, "labels": ["PER"]}},
    ]
    assert annotation_agreement(a, [span(0, 4, "PER")], NER) == 1.0


def test_zero_weight_labels_are_left_out_before_scoring() -> None:
    a = [rect(0, 0, 10, 10, "Car"), rect(50, 50, 10, 10, "Tree")]
    b = [rect(0, 0, 10, 10, "Car")]
    assert annotation_agreement(a, b, BOX) == pytest.approx(2 / 3)
    weights = {"box": {"labels": {"Car": 0.5, "Tree": 0}}}
    assert annotation_agreement(a, b, BOX, weights) == 1.0
    picked = {"sentiment": {"labels": {"Unsure": 0.0}}}
    assert (
        annotation_agreement([choices("Positive", "Unsure")], [choices("Positive")], SENTIMENT, picked) == 1.0
    )


def test_every_weight_zero_scores_zero() -> None:
    assert (
        annotation_agreement([choices("A")], [choices("A")], SENTIMENT, {"sentiment": {"overall": 0}}) == 0.0
    )


def test_per_region_choices_are_their_own_dimension() -> None:
    controls = {"box": "RectangleLabels", "quality": "Choices"}
    region = rect(0, 0, 10, 10)

    def nested(pick: str) -> Result:
        geometry = {k: region["value"][k] for k in ("x", "y", "width", "height")}
        value = {**geometry, "choices": [pick]}
        return {
            "id": region["id"],
            "from_name": "quality",
            "to_name": "image",
            "type": "choices",
            "value": value,
        }

    assert annotation_agreement([region, nested("Good")], [region, nested("Bad")], controls) == 0.5


def test_html_spans_overlap_only_inside_the_same_node() -> None:
    controls = {"html": "HyperTextLabels"}
    assert annotation_agreement([offsets("/p[1]", 0, 10)], [offsets("/p[1]", 5, 10)], controls) == 0.5
    assert annotation_agreement([offsets("/p[1]", 0, 10)], [offsets("/p[2]", 0, 10)], controls) == 0.0
    a, b = offsets("/p[1]", 0, 10), offsets("/p[2]", 0, 10)
    a["value"]["globalOffsets"], b["value"]["globalOffsets"] = (
        {"start": 0, "end": 10},
        {"start": 5, "end": 15},
    )
    assert annotation_agreement([a], [b], controls) == pytest.approx(5 / 15)


def test_paragraph_spans_use_offsets_within_a_paragraph() -> None:
    controls = {"html": "ParagraphLabels"}
    a, b = offsets("3", 0, 8, kind="paragraphlabels"), offsets("3", 4, 12, kind="paragraphlabels")
    assert annotation_agreement([a], [b], controls) == pytest.approx(4 / 12)


def test_timeline_ranges_are_inclusive_frames() -> None:
    def timeline(*ranges: tuple[int, int]) -> Result:
        value = {"ranges": [{"start": s, "end": e} for s, e in ranges], "timelinelabels": ["Run"]}
        return {"from_name": "events", "to_name": "video", "type": "timelinelabels", "value": value}

    controls = {"events": "TimelineLabels"}
    assert annotation_agreement([timeline((1, 10))], [timeline((6, 15))], controls) == pytest.approx(5 / 15)


def test_rotated_box_is_compared_as_its_polygon() -> None:
    # Rotating (10, 10, 20 x 10) by 90° about its top-left corner covers x 0..10, y 10..30.
    turned = rect(10, 10, 20, 10, rotation=90)
    assert annotation_agreement([turned], [rect(0, 10, 10, 20)], BOX) == pytest.approx(1.0, abs=1e-12)
    assert annotation_agreement([turned], [rect(10, 10, 20, 10)], BOX) == pytest.approx(0.0, abs=1e-12)


# --- polygons ------------------------------------------------------------------------------------

POLY = {"poly": "PolygonLabels"}
L_SHAPE: list[list[float]] = [[0, 0], [10, 0], [10, 5], [5, 5], [5, 10], [0, 10]]


def shifted(points: Sequence[Sequence[float]], dx: float, dy: float) -> list[list[float]]:
    return [[x + dx, y + dy] for x, y in points]


def test_concave_polygons_exactly() -> None:
    square: list[list[float]] = [[0, 0], [10, 0], [10, 10], [0, 10]]
    assert annotation_agreement([polygon(L_SHAPE)], [polygon(square)], POLY) == 0.75
    # L ∩ (L + (2, 2)) = [2,10]x[2,5] + [2,5]x[5,7] + [2,5]x[7,10] = 24 + 6 + 9.
    moved = [polygon(shifted(L_SHAPE, 2, 2))]
    assert annotation_agreement([polygon(L_SHAPE)], moved, POLY) == pytest.approx(39 / 111, abs=1e-12)
    # Touching along the inner corner's edges only: no area in common.
    assert annotation_agreement([polygon(L_SHAPE)], [polygon(shifted(square, 5, 5))], POLY) == 0.0


def test_polygon_orientation_and_closing_point_do_not_matter() -> None:
    closed_clockwise = [polygon([*L_SHAPE[::-1], L_SHAPE[-1]])]
    assert annotation_agreement([polygon(L_SHAPE)], closed_clockwise, POLY) == 1.0


def star(rng: random.Random, n: int, cx: float, cy: float) -> list[list[float]]:
    """A simple, usually concave polygon: vertices in angular order around a centre."""
    angles = sorted(rng.uniform(0, 2 * math.pi) for _ in range(n))
    radii = [rng.uniform(5, 40) for _ in angles]
    return [[cx + r * math.cos(t), cy + r * math.sin(t)] for t, r in zip(angles, radii, strict=True)]


def raster_iou(p: list[list[float]], q: list[list[float]], cells: int = 1200) -> float:
    """An independent oracle: even-odd point-in-polygon on a fine grid."""
    xs = (np.arange(cells) + 0.5) / cells * 100
    grid_x, grid_y = np.meshgrid(xs, xs)

    def inside(poly: list[list[float]]) -> np.ndarray[Any, np.dtype[np.bool_]]:
        hit = np.zeros(grid_x.shape, dtype=bool)
        for (x0, y0), (x1, y1) in zip(poly, poly[1:] + poly[:1], strict=True):
            if y0 == y1:
                continue
            crosses = (y0 > grid_y) != (y1 > grid_y)
            hit ^= crosses & (grid_x < x0 + (grid_y - y0) * (x1 - x0) / (y1 - y0))
        return hit

    a, b = inside(p), inside(q)
    return float((a & b).sum() / (a | b).sum())


@pytest.mark.parametrize("seed", range(6))
def test_polygon_iou_matches_a_raster_oracle(seed: int) -> None:
    rng = random.Random(seed)
    p, q = star(rng, 12, 50, 50), star(rng, 12, rng.uniform(40, 60), rng.uniform(40, 60))
    score = annotation_agreement([polygon(p)], [polygon(q)], POLY)
    assert score == pytest.approx(raster_iou(p, q), abs=3e-3)


boxes = st.tuples(*[st.integers(0, 60)] * 2, *[st.integers(1, 40)] * 2)


@given(boxes, boxes)
def test_axis_aligned_polygons_score_like_boxes(
    a: tuple[int, int, int, int], b: tuple[int, int, int, int]
) -> None:
    def corners(x: int, y: int, w: int, h: int) -> list[list[float]]:
        return [[x, y], [x + w, y], [x + w, y + h], [x, y + h]]

    as_polygons = annotation_agreement([polygon(corners(*a))], [polygon(corners(*b))], POLY)
    assert as_polygons == pytest.approx(annotation_agreement([rect(*a)], [rect(*b)], BOX), abs=1e-12)


def histogram(heights: list[int], dx: int, dy: int) -> list[list[float]]:
    """A simple orthogonal polygon (columns of the given heights) with integer vertices."""
    top = [[float(x + dx), float(h + dy)] for i, h in enumerate(heights) for x in (i, i + 1)]
    return [[dx, dy], [len(heights) + dx, dy], *top[::-1]]


def cells(heights: list[int], dx: int, dy: int) -> set[tuple[int, int]]:
    return {(i + dx, j + dy) for i, h in enumerate(heights) for j in range(h)}


columns = st.lists(st.integers(1, 5), min_size=1, max_size=6)
offset = st.integers(-3, 3)


@given(columns, offset, offset, columns, offset, offset)
def test_polygon_iou_is_exact_on_shared_edges(
    p: list[int], px: int, py: int, q: list[int], qx: int, qy: int
) -> None:
    # Unit cells are an exact oracle for integer orthogonal shapes, which share and touch edges a lot.
    a, b = cells(p, px, py), cells(q, qx, qy)
    expected = len(a & b) / len(a | b)
    score = annotation_agreement([polygon(histogram(p, px, py))], [polygon(histogram(q, qx, qy))], POLY)
    assert score == pytest.approx(expected, abs=1e-12)


# --- properties ----------------------------------------------------------------------------------

CONTROLS = {
    "box": "RectangleLabels",
    "poly": "PolygonLabels",
    "ner": "Labels",
    "sentiment": "Choices",
    "comment": "TextArea",
    "amount": "Number",
    "points": "KeyPointLabels",
}
labels = st.sampled_from(["Car", "Bus"])
coordinate = st.floats(0, 100, allow_nan=False)
size = st.floats(0, 50, allow_nan=False)


@st.composite
def star_polygons(draw: st.DrawFn) -> Result:
    seed = draw(st.integers(0, 10_000))
    return polygon(star(random.Random(seed), draw(st.integers(3, 9)), 50, 50), draw(labels))


keypoint = st.builds(
    lambda x, y, label: {
        "from_name": "points",
        "to_name": "image",
        "type": "keypointlabels",
        "value": {"x": x, "y": y, "width": 1, "keypointlabels": [label]},
    },
    coordinate,
    coordinate,
    labels,
)
items = st.one_of(
    st.builds(rect, coordinate, coordinate, size, size, labels, rotation=st.sampled_from([0, 30, 90])),
    star_polygons(),
    st.builds(lambda s, n, label: span(s, s + n, label), st.integers(0, 50), st.integers(0, 20), labels),
    st.builds(lambda picks: choices(*picks), st.lists(st.sampled_from("ABC"), max_size=3)),
    st.builds(lambda lines: text(*lines), st.lists(st.text("ab ", max_size=8), max_size=3)),
    st.builds(number, st.integers(-5, 5) | st.floats(-1e6, 1e6)),
    keypoint,
)
annotations = st.lists(items, max_size=5)


@settings(deadline=None)
@given(annotations, annotations)
def test_symmetric(a: list[Result], b: list[Result]) -> None:
    assert annotation_agreement(a, b, CONTROLS) == annotation_agreement(b, a, CONTROLS)
    assert 0.0 <= annotation_agreement(a, b, CONTROLS) <= 1.0


@settings(deadline=None)
@given(annotations)
def test_identical_annotations_agree(a: list[Result]) -> None:
    assert annotation_agreement(a, a, CONTROLS) == 1.0


@settings(deadline=None)
@given(annotations, st.integers(2, 5), st.sampled_from(["pairwise", "consensus"]))
def test_n_identical_annotations_agree(a: list[Result], n: int, methodology: Any) -> None:
    assert task_agreement([a] * n, CONTROLS, methodology=methodology) == 1.0


@settings(deadline=None)
@given(st.lists(annotations, min_size=2, max_size=4))
def test_pairwise_is_the_mean_of_pair_scores(results: list[list[Result]]) -> None:
    pairs = [(i, j) for i in range(len(results)) for j in range(i + 1, len(results))]
    scores = [annotation_agreement(results[i], results[j], CONTROLS) for i, j in pairs]
    assert task_agreement(results, CONTROLS) == pytest.approx(math.fsum(scores) / len(scores), abs=1e-12)


def edit_distance(a: str, b: str) -> int:
    """The textbook dynamic programme, as an oracle for the bit-parallel one."""
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        previous, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (ca != cb))
    return row[-1]


@given(st.text("abcé ", max_size=70), st.text("abcé ", max_size=70))
def test_text_similarity_is_normalised_levenshtein(a: str, b: str) -> None:
    longest = max(len(a), len(b))
    expected = 1.0 if longest == 0 else 1 - edit_distance(a, b) / longest
    assert annotation_agreement([text(a)], [text(b)], {"comment": "TextArea"}) == pytest.approx(
        expected, abs=1e-12
    )


def test_long_texts() -> None:
    a, b = "lorem ipsum " * 2000, "lorem ipsum " * 1999 + "dolor sit a "
    expected = 1 - edit_distance(a[-120:], b[-120:]) / len(a)
    assert annotation_agreement([text(a)], [text(b)], {"comment": "TextArea"}) == pytest.approx(
        expected, abs=1e-12
    )


def test_a_region_without_its_geometry_matches_only_itself() -> None:
    controls = {"label": "PolygonLabels", "box": "RectangleLabels"}
    broken = [{"from_name": "label", "type": "polygonlabels", "value": {"polygonlabels": ["Car"]}}]
    whole = [
        {
            "from_name": "label",
            "type": "polygonlabels",
            "value": {"points": [[0, 0], [10, 0], [10, 10]], "polygonlabels": ["Car"]},
        }
    ]
    no_x = [{"from_name": "box", "type": "rectanglelabels", "value": {"y": 1, "rectanglelabels": ["Car"]}}]
    assert annotation_agreement(broken, whole, controls) == 0.5  # the box control is empty on both sides
    assert annotation_agreement(broken, broken, controls) == 1.0
    assert annotation_agreement(no_x, no_x, controls) == 1.0
