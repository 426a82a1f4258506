"""Exact IoU of simple polygons (concave ones included), in rational arithmetic, and the IoU ratio
shared by every region metric."""

from collections.abc import Iterable, Sequence
from fractions import Fraction
from itertools import pairwise

Point = tuple[Fraction, Fraction]
Box = tuple[float, float, float, float]
Edge = tuple[Point, Point, Box]


def iou(intersection: float, union: float, same: bool) -> float:
    """I / U, with a degenerate (zero-size) union counting as agreement only for identical shapes."""
    if union <= 0:
        return 1.0 if same else 0.0
    return intersection / union


def polygon_iou(p: Sequence[Sequence[float]], q: Sequence[Sequence[float]]) -> float:
    """Exact IoU of two simple polygons, concave ones included (rational arithmetic, no tolerance).

    The intersection's area comes from Green's theorem over its boundary: the parts of A's edges
    inside B, the parts of B's edges inside A, and shared edges once where both interiors lie on
    the same side.
    """
    a, b = _ccw(p), _ccw(q)
    area_a, area_b = _area(a), _area(b)
    inter = (_boundary_integral(a, b, keep_shared=True) + _boundary_integral(b, a, keep_shared=False)) / 2
    inter = max(Fraction(0), inter)
    return iou(float(inter), float(area_a + area_b - inter), a == b)


def _ccw(points: Sequence[Sequence[float]]) -> list[Point]:
    """Exact vertices, counter-clockwise, without repeated consecutive points."""
    poly: list[Point] = []
    for x, y, *_ in points:
        point = (Fraction(x), Fraction(y))
        if not poly or poly[-1] != point:
            poly.append(point)
    if len(poly) > 1 and poly[0] == poly[-1]:
        poly.pop()
    return poly[::-1] if _signed_area(poly) < 0 else poly


def _signed_area(poly: Sequence[Point]) -> Fraction:
    return sum((_cross(p, q) for p, q, _ in _edges(poly)), Fraction(0)) / 2


def _area(poly: Sequence[Point]) -> Fraction:
    return abs(_signed_area(poly))


def _edges(poly: Sequence[Point]) -> list[Edge]:
    """Edges with their bounding boxes as floats (exact: the vertices came from floats)."""
    if len(poly) < 3:
        return []
    edges: list[Edge] = []
    for i, p in enumerate(poly):
        q = poly[(i + 1) % len(poly)]
        box = (float(min(p[0], q[0])), float(min(p[1], q[1])), float(max(p[0], q[0])), float(max(p[1], q[1])))
        edges.append((p, q, box))
    return edges


def _meet(a: Box, b: Box) -> bool:
    return a[0] <= b[2] and b[0] <= a[2] and a[1] <= b[3] and b[1] <= a[3]


def _cross(p: Point, q: Point) -> Fraction:
    return p[0] * q[1] - p[1] * q[0]


def _dot(p: Point, q: Point) -> Fraction:
    return p[0] * q[0] + p[1] * q[1]


def _sub(p: Point, q: Point) -> Point:
    return p[0] - q[0], p[1] - q[1]


def _at(p: Point, d: Point, t: Fraction) -> Point:
    return p[0] + d[0] * t, p[1] + d[1] * t


def _boundary_integral(a: Sequence[Point], b: Sequence[Point], *, keep_shared: bool) -> Fraction:
    """Σ x dy − y dx over the pieces of A's edges that bound A ∩ B."""
    total = Fraction(0)
    edges_b = _edges(b)
    for p0, p1, box in _edges(a):
        d = _sub(p1, p0)
        near = [edge for edge in edges_b if _meet(box, edge[2])]
        cuts = sorted({Fraction(0), Fraction(1), *_cuts(p0, d, near)})
        for t0, t1 in pairwise(cuts):
            if _bounds(_at(p0, d, (t0 + t1) / 2), d, edges_b, keep_shared=keep_shared):
                total += _cross(_at(p0, d, t0), _at(p0, d, t1))
    return total


def _cuts(p0: Point, d: Point, edges: Sequence[Edge]) -> Iterable[Fraction]:
    """Parameters in (0, 1) where edge p0 + t·d meets, touches or starts/stops overlapping `edges`."""
    for q0, q1, _ in edges:
        e, w = _sub(q1, q0), _sub(q0, p0)
        denom = _cross(d, e)
        if denom != 0:
            t, u = _cross(w, e) / denom, _cross(w, d) / denom
            if 0 <= u <= 1 and 0 < t < 1:
                yield t
        elif _cross(w, d) == 0:
            yield from (t for q in (q0, q1) if 0 < (t := _dot(_sub(q, p0), d) / _dot(d, d)) < 1)


def _bounds(m: Point, d: Point, edges: Sequence[Edge], *, keep_shared: bool) -> bool:
    """Whether the piece of edge with midpoint m and direction d bounds the intersection.

    On the other polygon's boundary it does when both run the same way (both interiors on its
    left); otherwise when m is inside, by an even-odd ray cast to +x. Float boxes only skip edges
    that can neither hold m nor cross the ray, with a margin far above float rounding.
    """
    mx, my = float(m[0]), float(m[1])
    margin = 1e-9 * (1 + abs(mx) + abs(my))
    inside = False
    for q0, q1, (x_lo, y_lo, x_hi, y_hi) in edges:
        if y_lo > my + margin or y_hi < my - margin or x_hi < mx - margin:
            continue
        straddles = (q0[1] > m[1]) != (q1[1] > m[1])
        if x_lo > mx + margin:  # wholly right of m: crosses the ray exactly when it straddles it
            inside ^= straddles
            continue
        e, r = _sub(q1, q0), _sub(m, q0)
        if _cross(e, r) == 0 and 0 <= _dot(r, e) <= _dot(e, e):
            return keep_shared and _dot(d, e) > 0
        if straddles and m[0] < q0[0] + (m[1] - q0[1]) * e[0] / e[1]:
            inside = not inside
    return inside
