"""Turning label-config XML into a `LabelConfig`, refusing anything Label Studio would not render or
anything that could run script in a page that shows the config."""

import difflib
import math
import re
from collections.abc import Iterator
from types import MappingProxyType

from app.domain.errors import Invalid
from app.domain.label_config.messages import clip, listing
from app.domain.label_config.model import ControlTag, LabelConfig, ObjectTag, frozen_attrs
from app.domain.label_config.safe_xml import FIELD, Node, read_xml
from app.domain.label_config.tags import CANONICAL, CHILD_OWNERS, CHOICE_TAGS, KIND, LABEL_CHILD, Kind

_SCRIPT_URL = re.compile(r"(?:java|vb)script:")
_INVISIBLE = re.compile(r"[\s\x00-\x1f]+")
_NUMERIC_ATTRS = {"Rating": ("maxRating",), "Number": ("min", "max", "step")}


def _fail(node: Node, message: str) -> Invalid:
    return Invalid(f"{node.where}: {message}", field=FIELD)


def _check_safety(node: Node) -> None:
    """No script: `<script>`, event-handler or htmx attributes, `javascript:` URLs, markup in CSS."""
    if node.tag.lower() == "script":
        raise _fail(node, "<script> elements are not allowed")
    for key, value in node.attrs.items():
        lowered = key.lower()
        if (lowered.startswith("on") and len(lowered) > 2) or lowered.startswith(("hx-", "data-hx-")):
            raise _fail(
                node, f"attribute '{clip(key)}' is not allowed (event handlers and scripting are refused)"
            )
        if _SCRIPT_URL.search(_INVISIBLE.sub("", value).lower()):
            raise _fail(node, f"attribute '{clip(key)}' holds a script URL, which is not allowed")
    text = node.text
    if _SCRIPT_URL.search(_INVISIBLE.sub("", text).lower()):
        raise _fail(node, "the element's text holds a script URL, which is not allowed")
    if node.tag.lower() == "style" and "<" in text:
        raise _fail(node, "<Style> may hold CSS only, not markup")


def _canonical(node: Node) -> str:
    tag = CANONICAL.get(node.tag.lower())
    if tag is None:
        close = difflib.get_close_matches(node.tag, list(KIND), n=1)
        hint = f" (did you mean <{close[0]}>?)" if close else ""
        raise _fail(node, f"unknown tag <{clip(node.tag)}>{hint}")
    return tag


def _owners(child: str) -> str:
    owners = [f"<{tag}>" for tag in CHILD_OWNERS[child]]
    return " or ".join(owners) if len(owners) <= 3 else f"{', '.join(owners[:3])} or another labels control"


def _descendants(node: Node, tag: str) -> Iterator[Node]:
    for child in node.children:
        if child.tag.lower() == tag.lower():
            yield child
        yield from _descendants(child, tag)


def _child_value(node: Node, control: str) -> str:
    value = node.attr("value")
    if not value:
        raise _fail(node, f"<{node.tag}> in control '{clip(control)}' needs a value attribute")
    return value


class _Collector:
    """Walks the tree once, collecting objects, controls and references checked at the end."""

    def __init__(self) -> None:
        self.objects: dict[str, ObjectTag] = {}
        self.controls: dict[str, ControlTag] = {}
        self.relation_labels: set[str] = set()
        self.named: dict[str, Node] = {}
        self.references: list[tuple[Node, str, tuple[str, ...]]] = []

    def visit(self, node: Node, owner: str | None) -> None:
        _check_safety(node)
        tag = _canonical(node)
        kind = KIND[tag]
        if kind is Kind.CHILD and owner not in CHILD_OWNERS[tag]:
            raise _fail(node, f"<{tag}> must be inside {_owners(tag)}")
        if kind in (Kind.OBJECT, Kind.CONTROL, Kind.RELATIONS):
            if owner is not None:
                raise _fail(node, f"<{tag}> cannot be inside <{owner}>")
            owner = tag
        if kind is Kind.OBJECT:
            self._object(node, tag)
        elif kind is Kind.CONTROL:
            self._control(node, tag)
        elif kind is Kind.RELATIONS:
            self.relation_labels.update(
                _child_value(child, "Relations") for child in _descendants(node, "Relation")
            )
        elif tag == "Filter":
            self._filter(node)
        for child in node.children:
            self.visit(child, owner)

    def _name(self, node: Node, tag: str) -> str:
        name = (node.attr("name") or "").strip()
        if not name:
            raise _fail(node, f"<{tag}> needs a name attribute")
        if name in self.named:
            raise _fail(
                node, f"name '{clip(name)}' is already used by {self.named[name].where}; names must be unique"
            )
        self.named[name] = node
        return name

    def _object(self, node: Node, tag: str) -> None:
        name = self._name(node, tag)
        value = node.attr("value") or node.attr("valueList")
        if not value:
            raise _fail(
                node, f'<{tag}> needs a value attribute naming the task data it shows, e.g. value="$text"'
            )
        obj = ObjectTag(name, tag, value, frozen_attrs(node.attrs))
        if value.startswith("$") and obj.data_key is None:
            raise _fail(node, f"value '{clip(value)}' names no task data key")
        self.objects[name] = obj

    def _control(self, node: Node, tag: str) -> None:
        name = self._name(node, tag)
        to_names = _to_names(node, tag)
        _check_numeric_attrs(node, tag)
        labels, label_attrs, aliases, taxonomy = _labels(node, tag, name)
        self.controls[name] = ControlTag(
            name,
            tag,
            to_names,
            labels,
            _choice(node, tag),
            frozen_attrs(node.attrs),
            MappingProxyType({label: frozen_attrs(attrs) for label, attrs in label_attrs.items()}),
            frozen_attrs(aliases),
            taxonomy,
        )
        self.references.append((node, name, to_names))

    def _filter(self, node: Node) -> None:
        if node.attr("name"):
            self._name(node, "Filter")
        if node.attr("toName"):
            self.references.append((node, "Filter", _to_names(node, "Filter")))

    def finish(self) -> LabelConfig:
        known = listing(self.objects)
        for node, source, to_names in self.references:
            for to_name in to_names:
                if source == "Filter" and to_name not in self.objects and to_name not in self.controls:
                    raise _fail(node, f"toName '{clip(to_name)}' of <Filter> names no control or object tag")
                if source != "Filter" and to_name not in self.objects:
                    where = f"toName '{clip(to_name)}' of control '{clip(source)}'"
                    raise _fail(node, f"{where} names no object tag (objects: {known})")
        return LabelConfig(
            MappingProxyType(self.objects), MappingProxyType(self.controls), frozenset(self.relation_labels)
        )


def _to_names(node: Node, tag: str) -> tuple[str, ...]:
    raw = node.attr("toName") or ""
    names = tuple(part.strip() for part in raw.split(","))
    if not all(names):
        raise _fail(node, f"<{tag}> needs a toName attribute naming the object tag(s) it labels")
    return names


def _choice(node: Node, tag: str) -> str:
    """Label Studio's default is single; `single-radio` only changes how the choice is drawn."""
    if tag not in CHOICE_TAGS:
        return ""
    raw = (node.attr("choice") or "single").lower()
    if raw not in ("single", "single-radio", "multiple"):
        raise _fail(node, f"choice must be single, single-radio or multiple, not '{clip(raw)}'")
    return "multiple" if raw == "multiple" else "single"


def _check_numeric_attrs(node: Node, tag: str) -> None:
    for key in _NUMERIC_ATTRS.get(tag, ()):
        raw = node.attr(key)
        if raw is None:
            continue
        try:
            ok = math.isfinite(float(raw))
        except ValueError:
            ok = False
        if not ok:
            raise _fail(node, f"attribute {key} must be a number, not '{clip(raw)}'")


_Labels = tuple[tuple[str, ...], dict[str, dict[str, str]], dict[str, str], frozenset[tuple[str, ...]]]


def _labels(node: Node, tag: str, name: str) -> _Labels:
    """Labels, their attributes, aliases and (for a Taxonomy) every root-to-node path of the tree."""
    child = LABEL_CHILD.get(tag)
    if child is None:
        return (), {}, {}, frozenset()
    if tag == "Taxonomy":
        items = list(_taxonomy(node, name, ()))
        paths = frozenset(path for path, _ in items)
        elements = [element for _, element in items]
    else:
        elements = list(_descendants(node, child))
        paths = frozenset()
    labels: dict[str, dict[str, str]] = {}
    aliases: dict[str, str] = {}
    for element in elements:
        value = _child_value(element, name)
        if value in labels and tag != "Taxonomy":
            raise _fail(element, f"label '{clip(value)}' appears twice in control '{clip(name)}'")
        labels.setdefault(value, dict(element.attrs))
        if alias := element.attr("alias"):
            aliases[alias] = value
    return tuple(labels), labels, aliases, paths


def _taxonomy(node: Node, name: str, prefix: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], Node]]:
    for child in node.children:
        if child.tag.lower() != "choice":
            continue
        path = (*prefix, _child_value(child, name))
        yield path, child
        yield from _taxonomy(child, name, path)


def parse_label_config(xml: str) -> LabelConfig:
    """Parse and check a label config; every refusal is an Invalid naming the element and its line."""
    root = read_xml(xml)
    if root.tag.lower() != "view":
        raise _fail(root, f"the root element must be <View>, not <{clip(root.tag)}>")
    collector = _Collector()
    collector.visit(root, None)
    return collector.finish()
