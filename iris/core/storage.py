"""A content-addressed file store: every file is named by the SHA-256 of its bytes.

Rows (licences, evidence documents) keep the digest; the bytes live under
``IRIS_STORAGE_DIR/ab/cd/abcd...`` (the first two pairs of hex digits as folders). The same
bytes uploaded twice are stored once. A digest names exactly one content, so a file is never
overwritten or edited in place, and :meth:`FileStore.read` checks the bytes against their
name before returning them (a changed file on disk is reported, never served).

Files are written before the database transaction commits; a rolled-back upload leaves an
unreferenced file behind, which is harmless (nothing points at it) and can be swept later.

:func:`sniff` names a file's type from its first bytes, never from its name or the browser's
claimed content type: uploads are checked with it.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import tempfile
import zipfile
from pathlib import Path
from typing import Protocol

from flask import current_app

_DIGEST = re.compile(r"^[0-9a-f]{64}$")

#: Signatures of the types accepted as documents: (mimetype, extensions, magic prefix).
SIGNATURES: tuple[tuple[str, tuple[str, ...], bytes], ...] = (
    ("application/pdf", (".pdf",), b"%PDF-"),
    ("image/png", (".png",), b"\x89PNG\r\n\x1a\n"),
    ("image/jpeg", (".jpg", ".jpeg"), b"\xff\xd8\xff"),
)

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: Legacy Office 97–2003 files (.doc, .xls) share one container format (OLE2); its bytes do
#: not say which program wrote it, so it is one type here.
OLE = "application/x-ole-storage"
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
#: Office documents: (mimetype, extensions); recognised by content in :func:`sniff`.
OFFICE_TYPES: tuple[tuple[str, tuple[str, ...]], ...] = (
    (DOCX, (".docx",)),
    (XLSX, (".xlsx",)),
    (OLE, (".doc", ".xls")),
)

#: What each upload accepts. Licences: PDF and images; evidence: office documents too.
PDF_AND_IMAGES = frozenset(m for m, _e, _m in SIGNATURES)
DOCUMENTS = PDF_AND_IMAGES | frozenset(m for m, _e in OFFICE_TYPES)

#: How each type reads to people (for messages such as "its content is a PNG image").
TYPE_NAMES = {
    "application/pdf": "PDF",
    "image/png": "PNG",
    "image/jpeg": "JPEG",
    DOCX: "Word (.docx)",
    XLSX: "Excel (.xlsx)",
    OLE: "Word/Excel 97–2003 (.doc/.xls)",
}

#: Extensions by type, for naming downloads.
EXTENSIONS = {m: exts[0] for m, exts, _magic in SIGNATURES} | {
    m: exts[0] for m, exts in OFFICE_TYPES
}


class StorageError(Exception):
    """A file that is missing or whose bytes no longer match their digest."""


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sniff(data: bytes, accept: frozenset[str] = PDF_AND_IMAGES) -> str | None:
    """The mimetype of ``data`` judged by its content, or None if it is not one of ``accept``.

    Office Open XML files are zip archives: a .docx holds ``word/document.xml``, an .xlsx
    ``xl/workbook.xml``; any other zip is refused.
    """
    head = data[:16]
    found: str | None = None
    for mimetype, _exts, magic in SIGNATURES:
        if head.startswith(magic):
            found = mimetype
    if found is None and head.startswith(_OLE_MAGIC):
        found = OLE
    if found is None and head.startswith(_ZIP_MAGIC):
        found = _office_zip_type(data)
    return found if found in accept else None


def _office_zip_type(data: bytes) -> str | None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return None
    if "[Content_Types].xml" not in names:
        return None
    if "word/document.xml" in names:
        return DOCX
    if "xl/workbook.xml" in names:
        return XLSX
    return None


def mimetype_for_name(filename: str, accept: frozenset[str] = PDF_AND_IMAGES) -> str | None:
    """The accepted mimetype a file name's extension claims, or None."""
    suffix = Path(filename).suffix.lower()
    for mimetype, exts, _magic in SIGNATURES:
        if suffix in exts and mimetype in accept:
            return mimetype
    for mimetype, exts in OFFICE_TYPES:
        if suffix in exts and mimetype in accept:
            return mimetype
    return None


class Storage(Protocol):
    """Where file bytes live, named by their SHA-256 digest.

    The filesystem store below is the embedded one; an object store (S3 and the like) is
    another implementation of the same three methods. Nothing outside this module knows
    where the bytes are, and no file is ever served from a URL derived from its digest:
    views look a document up by its random public id, check access, then read the bytes.
    """

    def put(self, data: bytes) -> str: ...

    def read(self, digest: str) -> bytes: ...

    def exists(self, digest: str) -> bool: ...


class FileStore:
    """The filesystem implementation of :class:`Storage`."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def path(self, digest: str) -> Path:
        if not _DIGEST.match(digest):
            raise StorageError(f"not a SHA-256 digest: {digest!r}")
        return self.root / digest[:2] / digest[2:4] / digest

    def put(self, data: bytes) -> str:
        """Store ``data`` (once) and return its SHA-256 hex digest."""
        digest = sha256_hex(data)
        target = self.path(digest)
        if target.exists():
            return digest
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, target)  # atomic: readers see the whole file or none
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return digest

    def exists(self, digest: str) -> bool:
        return self.path(digest).is_file()

    def read(self, digest: str) -> bytes:
        """The bytes named ``digest``; StorageError if missing or altered."""
        try:
            data = self.path(digest).read_bytes()
        except FileNotFoundError as exc:
            raise StorageError(f"file {digest} is missing from the store") from exc
        if sha256_hex(data) != digest:
            raise StorageError(f"file {digest} does not match its digest")
        return data


def file_store() -> Storage:
    """The application's store (``IRIS_STORAGE_DIR``, under instance/ by default)."""
    return FileStore(current_app.config["IRIS_STORAGE_DIR"])


def put_bytes(data: bytes) -> str:
    return file_store().put(data)


def read_bytes(digest: str) -> bytes:
    return file_store().read(digest)
