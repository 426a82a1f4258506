"""Reading untrusted label-config XML into a small tree, refusing DTDs and bounding size, count and depth.

defusedxml refuses DOCTYPE and entity declarations (billion laughs, external entities); the limits
are checked while expat reads, so a hostile document stops at the first element over a limit.
"""

from dataclasses import dataclass, field
from typing import Any
from xml.etree.ElementTree import ParseError
from xml.parsers.expat import ErrorString

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser

from app.domain.errors import Invalid, TooLarge
from app.domain.label_config.messages import clip
from app.domain.label_config.model import get_attr

MAX_CHARS = 1_000_000
MAX_ELEMENTS = 10_000
MAX_DEPTH = 100
FIELD = "label_config"


@dataclass(eq=False)
class Node:
    """One element; `path` (e.g. `View/Choices[@name='sentiment']`) and `line` locate it for messages."""

    tag: str
    attrs: dict[str, str]
    line: int
    parent: "Node | None" = field(default=None, repr=False)
    children: list["Node"] = field(default_factory=list)
    text_parts: list[str] = field(default_factory=list)

    def attr(self, key: str) -> str | None:
        return get_attr(self.attrs, key)

    @property
    def text(self) -> str:
        return "".join(self.text_parts)

    @property
    def path(self) -> str:
        """Built only for messages, so a deep hostile tree never holds a long path per element."""
        name = self.attr("name")
        step = f"{clip(self.tag)}[@name='{clip(name)}']" if name else clip(self.tag)
        return f"{self.parent.path}/{step}" if self.parent else step

    @property
    def where(self) -> str:
        return f"{self.path} (line {self.line})"


class _Builder:
    """expat target building `Node`s and enforcing the element and depth limits as it goes."""

    def __init__(self, line_offset: int) -> None:
        self.parser: Any = None
        self.line_offset = line_offset
        self.stack: list[Node] = []
        self.count = 0
        self.root: Node | None = None

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        self.count += 1
        line = self.parser.parser.CurrentLineNumber + self.line_offset
        if self.count > MAX_ELEMENTS:
            raise Invalid(f"the label config has more than {MAX_ELEMENTS:,} elements", field=FIELD)
        if len(self.stack) >= MAX_DEPTH:
            raise Invalid(
                f"the label config nests elements more than {MAX_DEPTH} deep (line {line})", field=FIELD
            )
        parent = self.stack[-1] if self.stack else None
        node = Node(tag, dict(attrs), line, parent)
        if parent:
            parent.children.append(node)
        else:
            self.root = node
        self.stack.append(node)

    def end(self, tag: str) -> None:
        self.stack.pop()

    def data(self, text: str) -> None:
        if self.stack:
            self.stack[-1].text_parts.append(text)

    def close(self) -> Node | None:
        return self.root


def read_xml(xml: str) -> Node:
    """The element tree of `xml`, or Invalid naming what is wrong and where."""
    if not isinstance(xml, str):
        raise Invalid("the label config must be a string of XML", field=FIELD)
    if len(xml) > MAX_CHARS:
        raise TooLarge(f"the label config is longer than {MAX_CHARS:,} characters", field=FIELD)
    text = xml.lstrip()
    if not text:
        raise Invalid("the label config is empty", field=FIELD)
    line_offset = xml[: len(xml) - len(text)].count("\n")
    builder = _Builder(line_offset)
    parser = DefusedXMLParser(target=builder, forbid_dtd=True)
    builder.parser = parser
    try:
        parser.feed(text)
        root = parser.close()
    except ParseError as exc:
        line, column = exc.position
        raise Invalid(
            f"the label config is not well-formed XML: {ErrorString(exc.code)} "
            f"at line {line + line_offset}, column {column + 1}",
            field=FIELD,
        ) from None
    except DefusedXmlException:
        raise Invalid("DOCTYPE/entities are not allowed in the label config", field=FIELD) from None
    assert isinstance(root, Node)  # expat reports a document without a root element as a ParseError
    return root
