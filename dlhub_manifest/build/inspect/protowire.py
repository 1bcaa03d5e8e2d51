"""A minimal protocol-buffers wire-format reader: enough to read a SavedModel's signatures without TensorFlow.

Only the parsing of bytes happens here (no code from the model runs), with bounds checks on every length so
a truncated or hostile file raises `ProtoError` instead of looping or reading past the end.
"""

from __future__ import annotations

from collections.abc import Iterator

from dlhub_manifest.errors import InputError

VARINT, FIXED64, LENGTH, FIXED32 = 0, 1, 2, 5
Field = tuple[int, int, "int | bytes"]


class ProtoError(InputError):
    """The bytes are not a well-formed protocol-buffers message."""


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(data) or shift > 63:
            raise ProtoError("truncated or overlong varint")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7


def fields(data: bytes) -> Iterator[Field]:
    """Every (field number, wire type, value) of a message; LENGTH values are raw bytes, the others ints."""
    pos = 0
    while pos < len(data):
        key, pos = _varint(data, pos)
        number, wire = key >> 3, key & 7
        value: int | bytes
        if wire == VARINT:
            value, pos = _varint(data, pos)
        elif wire in (FIXED64, FIXED32):
            size = 8 if wire == FIXED64 else 4
            if pos + size > len(data):
                raise ProtoError("truncated fixed-width field")
            value, pos = int.from_bytes(data[pos:pos + size], "little"), pos + size
        elif wire == LENGTH:
            size, pos = _varint(data, pos)
            if pos + size > len(data):
                raise ProtoError("length-delimited field runs past the end")
            value, pos = data[pos:pos + size], pos + size
        else:
            raise ProtoError(f"unsupported wire type {wire}")
        yield number, wire, value


def messages(data: bytes, number: int) -> list[bytes]:
    """The embedded messages (or strings, as bytes) of repeated field `number`."""
    return [v for n, w, v in fields(data) if n == number and w == LENGTH and isinstance(v, bytes)]


def first(data: bytes, number: int) -> bytes | None:
    """The first embedded message of field `number`, or None."""
    found = messages(data, number)
    return found[0] if found else None


def integer(data: bytes, number: int, default: int = 0) -> int:
    """The last value of varint field `number` (proto3 semantics), as a signed 64-bit int."""
    value = default
    for n, w, v in fields(data):
        if n == number and w == VARINT and isinstance(v, int):
            value = v - (1 << 64) if v >= 1 << 63 else v
    return value


def text(data: bytes, number: int) -> str:
    """String field `number`, decoded as UTF-8 (empty when absent)."""
    raw = first(data, number)
    return raw.decode("utf-8", errors="replace") if raw is not None else ""


def string_map(data: bytes, number: int) -> dict[str, bytes]:
    """A `map<string, Message>` field: key (1) -> value message bytes (2)."""
    out: dict[str, bytes] = {}
    for entry in messages(data, number):
        out[text(entry, 1)] = first(entry, 2) or b""
    return out
