"""The Label Studio tags Quorum knows, by kind, and what each control's results look like.

Tag names compare case-insensitively (Label Studio's frontend lowercases them); the names here
are the canonical spelling kept in parsed configs and messages.
"""

from enum import Enum


class Kind(Enum):
    LAYOUT = "layout"
    OBJECT = "object"
    CONTROL = "control"
    CHILD = "child"
    RELATIONS = "relations"


LAYOUT_TAGS = ("View", "Header", "Style", "Collapse", "Panel", "Filter", "Dialog")
OBJECT_TAGS = (
    "Text", "HyperText", "Image", "Audio", "AudioPlus", "Video", "Paragraphs", "Table", "List",
    "TimeSeries", "Chat",
)  # fmt: skip
GEOMETRY_TAGS = ("Rectangle", "Polygon", "KeyPoint", "Ellipse", "Brush", "Bitmask", "Vector")
LABELS_TAGS = (
    "Labels", "RectangleLabels", "PolygonLabels", "KeyPointLabels", "EllipseLabels", "BrushLabels",
    "BitmaskLabels", "VectorLabels", "OcrLabels", "HyperTextLabels", "ParagraphLabels",
    "TimeSeriesLabels", "TimelineLabels",
)  # fmt: skip
OTHER_CONTROL_TAGS = (
    "Choices", "Taxonomy", "TextArea", "Rating", "Number", "DateTime", "Pairwise", "Ranker",
    "VideoRectangle", "ChatMessage",
)  # fmt: skip
CONTROL_TAGS = GEOMETRY_TAGS + LABELS_TAGS + OTHER_CONTROL_TAGS

# Child tags and the owner (nearest enclosing control/object/Relations) each must sit in.
CHILD_OWNERS: dict[str, tuple[str, ...]] = {
    "Label": LABELS_TAGS,
    "Choice": ("Choices", "Taxonomy"),
    "Relation": ("Relations",),
    "Shortcut": ("TextArea",),
    "Channel": ("TimeSeries",),
    "Bucket": ("Ranker",),
}

KIND: dict[str, Kind] = {
    **dict.fromkeys(LAYOUT_TAGS, Kind.LAYOUT),
    **dict.fromkeys(OBJECT_TAGS, Kind.OBJECT),
    **dict.fromkeys(CONTROL_TAGS, Kind.CONTROL),
    **dict.fromkeys(CHILD_OWNERS, Kind.CHILD),
    "Relations": Kind.RELATIONS,
}
CANONICAL: dict[str, str] = {tag.lower(): tag for tag in KIND}

# The child tag that defines a control's labels.
LABEL_CHILD: dict[str, str] = {
    **dict.fromkeys(LABELS_TAGS, "Label"),
    "Choices": "Choice",
    "Taxonomy": "Choice",
}
# Controls whose `choice` attribute limits how many labels one result item may carry.
CHOICE_TAGS = frozenset(("Choices", *LABELS_TAGS))

# Result types whose value lists labels under a key of the same name.
LABEL_LIST_TYPES = frozenset(("choices", *(tag.lower() for tag in LABELS_TAGS)))
GEOMETRY_TYPES = frozenset(tag.lower() for tag in GEOMETRY_TAGS)

# The value key carrying the answer of controls that are not label lists.
VALUE_KEY: dict[str, str] = {
    "textarea": "text",
    "rating": "rating",
    "number": "number",
    "datetime": "datetime",
    "taxonomy": "taxonomy",
    "pairwise": "selected",
    "ranker": "ranker",
    "chatmessage": "chatmessage",
    "videorectangle": "sequence",
}

# Geometry keys a value of each result type must carry, beyond its labels or answer.
REQUIRED_KEYS: dict[str, tuple[str, ...]] = {
    "rectangle": ("x", "y", "width", "height"),
    "rectanglelabels": ("x", "y", "width", "height"),
    "ocrlabels": ("x", "y", "width", "height"),
    "polygon": ("points",),
    "polygonlabels": ("points",),
    "keypoint": ("x", "y"),
    "keypointlabels": ("x", "y"),
    "ellipse": ("x", "y", "radiusX", "radiusY"),
    "ellipselabels": ("x", "y", "radiusX", "radiusY"),
    "brush": ("format",),
    "brushlabels": ("format",),
    "vector": ("vertices",),
    "vectorlabels": ("vertices",),
    "labels": ("start", "end"),
    "hypertextlabels": ("start", "end", "startOffset", "endOffset"),
    "paragraphlabels": ("start", "end", "startOffset", "endOffset"),
    "timeserieslabels": ("start", "end"),
    "timelinelabels": ("ranges",),
}


def label_key(result_type: str) -> str | None:
    """The value key holding the labels a result of this type uses, if any."""
    if result_type in LABEL_LIST_TYPES or result_type == "taxonomy":
        return result_type
    if result_type == "videorectangle":
        return "labels"
    return None
