"""Reading a request body: size limits, optional gzip, and JSON via orjson."""

import zlib
from dataclasses import dataclass
from typing import BinaryIO

import orjson

CHUNK = 64 * 1024


class BodyRejected(Exception):
    """A body that cannot be read as one JSON document within the limits."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class Body:
    data: object
    size: int  # decoded bytes
    may_contain_nul: bool  # a \u0000 escape appears somewhere (rare: lets the common case skip a scan)


def body_read(stream: BinaryIO | None, *, content_encoding: str, max_bytes: int, too_large: str) -> Body:
    """Read at most `max_bytes` decoded bytes and parse them; larger bodies are refused, not cut."""
    raw = _read_limited(stream, max_bytes, too_large)
    encoding = content_encoding.strip().lower()
    if encoding == "gzip":
        raw = _gunzip_limited(raw, max_bytes, too_large)
    elif encoding not in ("", "identity"):
        raise BodyRejected(415, "unsupported_encoding", "Content-Encoding must be gzip or absent")
    if not raw.strip():
        raise BodyRejected(400, "invalid_json", "the request body is empty")
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        raise BodyRejected(400, "invalid_json", f"the request body is not valid JSON: {error}") from None
    return Body(data=data, size=len(raw), may_contain_nul=b"\\u0000" in raw)


def _read_limited(stream: BinaryIO | None, max_bytes: int, too_large: str) -> bytes:
    if stream is None:
        return b""
    # Read one byte past the limit: enough to know the body is too large without holding it all.
    raw = stream.read(max_bytes + 1)
    if len(raw) > max_bytes:
        raise BodyRejected(413, too_large, f"the request body is larger than {max_bytes} bytes")
    return raw


def _gunzip_limited(raw: bytes, max_bytes: int, too_large: str) -> bytes:
    # A gzip bomb inflates a few KB into gigabytes: stop decompressing one byte past the limit.
    decompressor = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        data = decompressor.decompress(raw, max_bytes + 1)
    except zlib.error:
        raise BodyRejected(400, "invalid_gzip", "the request body is not valid gzip") from None
    if len(data) > max_bytes:
        raise BodyRejected(413, too_large, f"the decompressed body is larger than {max_bytes} bytes")
    if not decompressor.eof:
        raise BodyRejected(400, "invalid_gzip", "the gzip stream is truncated")
    return data
