"""What every export writer does: its start, the tasks' bytes a batch at a time, its finish."""

from abc import ABC, abstractmethod
from collections.abc import Iterable
from typing import Any


class ExportWriter(ABC):
    media_type: str
    extension: str

    @abstractmethod
    def start(self) -> bytes: ...

    @abstractmethod
    def write(self, task: dict[str, Any]) -> bytes: ...

    def write_many(self, tasks: Iterable[dict[str, Any]]) -> bytes:
        """A batch of tasks' bytes, the way the service sends them; a writer that does better with
        the whole batch at once says how."""
        return b"".join(map(self.write, tasks))

    @abstractmethod
    def finish(self) -> bytes: ...
