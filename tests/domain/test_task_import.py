"""Reading uploads row by row."""

import gc
import io
import sys

import pytest

from app.domain.errors import Invalid
from app.domain.task_import import iter_items


@pytest.mark.parametrize(("name", "body"), [("a.csv", b"text,text\nx,y\n"), ("a.tsv", b"text\nx\ty\n")])
def test_an_upload_refused_part_way_leaves_nothing_failing_after_its_file_is_closed(name, body):
    """The request closes its upload once the 400 is sent; the half-read rows are dropped later."""
    unraisable = []
    hook, sys.unraisablehook = sys.unraisablehook, unraisable.append
    try:
        stream = io.BytesIO(body)
        items = iter_items(stream, name, "text")
        with pytest.raises(Invalid) as refused:
            list(items)
        stream.close()
        del items, refused
        gc.collect()
    finally:
        sys.unraisablehook = hook
    assert [str(u.exc_value) for u in unraisable] == []
