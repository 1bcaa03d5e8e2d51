"""Does a pickled model's file match its `serialization`? Told from its first bytes, never by loading it.

`joblib.dump` writes either a compressed file (zlib, gzip, bz2, xz, lzma or lz4 header) or a pickle stream whose
numpy arrays follow as raw bytes, marked by a `joblib.numpy_pickle` reference; `pickle.load` reads neither
(the load fails with "invalid load key"). `joblib.load` reads plain pickles, so the other way round is fine.
"""

from __future__ import annotations

from pathlib import Path

SNIFF_BYTES = 1 << 20  # the first numpy array of a model comes within its first MiB
SERIALIZED_OPTION = {"sklearn": "model", "class_method": "object"}  # the option naming the pickled file, per type
_COMPRESSED = (b"\x78\x01", b"\x78\x5e", b"\x78\x9c", b"\x78\xda",  # zlib (joblib's default compressor)
               b"\x1f\x8b", b"BZh", b"\xfd7zXZ\x00", b"\x5d\x00\x00", b"\x04\x22\x4d\x18", b"ZF")  # gzip ... lz4, old
_JOBLIB_MARK = b"joblib.numpy_pickle"


def written_by_joblib(path: Path) -> bool:
    """True when the file is in joblib's own format, which `pickle.load` cannot read (False when unreadable)."""
    try:
        with path.open("rb") as fh:
            head = fh.read(SNIFF_BYTES)
    except OSError:
        return False
    return head.startswith(_COMPRESSED) or _JOBLIB_MARK in head


def serialization_problem(path: Path, declared: str) -> tuple[str, str] | None:
    """(message, hint) when `declared` cannot read the file at `path`; None when it can or we cannot tell."""
    if declared == "pickle" and written_by_joblib(path):
        return (f"{path.name} was written by joblib.dump, which pickle cannot read",
                "set `serialization: joblib`, or save the model with pickle.dump")
    return None
