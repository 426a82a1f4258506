"""A zip file written as a stream of byte chunks, for the multi-file export formats."""

import zipfile
from datetime import datetime
from typing import IO


class _Sink:
    """A write-only, unseekable target: zipfile then puts sizes after each entry instead of seeking back."""

    def __init__(self) -> None:
        self.buffer = bytearray()

    def write(self, data: bytes) -> int:
        self.buffer += data
        return len(data)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass

    def drain(self) -> bytes:
        data = bytes(self.buffer)
        self.buffer.clear()
        return data


class ZipStream:
    """Entries go in one after another; each call returns the zip bytes produced since the last one.

    Only the central directory (one small record per entry) stays in memory until `close`.
    """

    def __init__(self, created: datetime) -> None:
        self.sink = _Sink()
        self.zip = zipfile.ZipFile(self.sink, "w", zipfile.ZIP_DEFLATED)
        self.date_time = created.timetuple()[:6]

    def _info(self, name: str) -> zipfile.ZipInfo:
        info = zipfile.ZipInfo(name, self.date_time)
        info.compress_type = zipfile.ZIP_DEFLATED
        return info

    def has(self, name: str) -> bool:
        return name in self.zip.NameToInfo

    def add(self, name: str, data: bytes) -> bytes:
        self.zip.writestr(self._info(name), data)
        return self.sink.drain()

    def open(self, name: str) -> IO[bytes]:
        """An entry written piece by piece; zip64 is allowed as its final size is not known."""
        return self.zip.open(self._info(name), "w", force_zip64=True)

    def drain(self) -> bytes:
        return self.sink.drain()

    def close(self) -> bytes:
        self.zip.close()
        return self.sink.drain()
