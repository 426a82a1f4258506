"""Page arithmetic shared by every paginated list, with Label Studio's past-the-end rule."""

from dataclasses import dataclass

from app.domain.errors import Invalid, NotFound


@dataclass(frozen=True)
class Page:
    number: int
    size: int

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.size

    def rows_after(self, total: int) -> int:
        """How many of `total` rows follow this page: what reading it backwards skips."""
        return max(0, total - self.offset - self.size)


def page_of(page: int | None, page_size: int | None, *, default_size: int, max_size: int) -> Page:
    """Validate the requested page; an oversized page is capped, as Label Studio does."""
    number = 1 if page is None else page
    size = default_size if page_size is None else page_size
    if number < 1:
        raise Invalid("page must be 1 or more", field="page")
    if size < 1:
        raise Invalid("page_size must be 1 or more", field="page_size")
    return Page(number, min(size, max_size))


def check_in_range(page: Page, total: int) -> None:
    """Past the last page is a 404 `Invalid page.`; legacy clients stop paging only on that."""
    if page.number > 1 and page.offset >= total:
        raise NotFound("Invalid page.")
