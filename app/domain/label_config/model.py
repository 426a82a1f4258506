"""What a parsed label config holds: the object tags that show task data and the controls that label it."""

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType


def _no_attrs() -> Mapping[str, str]:
    return MappingProxyType({})


def _no_label_attrs() -> Mapping[str, Mapping[str, str]]:
    return MappingProxyType({})


def get_attr(attrs: Mapping[str, str], key: str) -> str | None:
    """Attribute lookup ignoring case, as Label Studio's frontend reads `toName` and `toname` alike."""
    wanted = key.lower()
    return next((value for name, value in attrs.items() if name.lower() == wanted), None)


@dataclass(frozen=True)
class ObjectTag:
    """A tag showing task data, e.g. `<Text name="text" value="$text"/>`."""

    name: str
    tag: str
    value: str
    attrs: Mapping[str, str] = field(default_factory=_no_attrs, hash=False)

    @cached_property
    def data_key(self) -> str | None:
        """The task data key read by `value="$key"`; for `$a.b` or `$a[0]` only the top-level key `a`."""
        if not self.value.startswith("$"):
            return None
        return re.split(r"[.\[]", self.value[1:], maxsplit=1)[0] or None


@dataclass(frozen=True)
class ControlTag:
    """A tag producing results, e.g. `<Choices name="sentiment" toName="text">`.

    `labels` are the `value`s of its Label/Choice children in document order (for a Taxonomy, every
    node of the tree); `aliases` maps each child's `alias` to its value, since results may use either.
    """

    name: str
    tag: str
    to_names: tuple[str, ...]
    labels: tuple[str, ...] = ()
    choice: str = ""
    attrs: Mapping[str, str] = field(default_factory=_no_attrs, hash=False)
    label_attrs: Mapping[str, Mapping[str, str]] = field(default_factory=_no_label_attrs, hash=False)
    aliases: Mapping[str, str] = field(default_factory=_no_attrs, hash=False)
    taxonomy: frozenset[tuple[str, ...]] = frozenset()

    @property
    def result_type(self) -> str:
        return self.tag.lower()

    def attr(self, key: str) -> str | None:
        return get_attr(self.attrs, key)

    @cached_property
    def dynamic(self) -> bool:
        """Labels come from task data (`value="$options"`) or an API, so they cannot be checked here."""
        return (self.attr("value") or "").startswith("$") or bool(self.attr("apiUrl"))

    @cached_property
    def accepted_labels(self) -> frozenset[str]:
        return frozenset(self.labels) | frozenset(self.aliases)


@dataclass(frozen=True)
class LabelConfig:
    """A validated config; `relation_labels` are the `<Relation value>`s allowed on relation items."""

    objects: Mapping[str, ObjectTag]
    controls: Mapping[str, ControlTag]
    relation_labels: frozenset[str] = frozenset()

    @cached_property
    def data_keys(self) -> frozenset[str]:
        return frozenset(key for obj in self.objects.values() if (key := obj.data_key))


def frozen_attrs(attrs: Mapping[str, str]) -> Mapping[str, str]:
    """A read-only copy, so a config shared between requests cannot be changed by one of them."""
    return MappingProxyType(dict(attrs))
