"""Supporting files: checked by content, stored outside the web root under random names."""

from __future__ import annotations

import hashlib
import os
import secrets
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import filetype
from flask import current_app
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import FileStorage

from .extensions import db
from .models import Attachment, Nomination, Question, QuestionKind, User

MAX_UPLOAD_MB = 20
CHUNK = 64 * 1024
# Office documents are ZIP archives. Real ones hold a few hundred parts and expand some tens
# of times at most; beyond these limits an archive is refused as a "ZIP bomb".
MAX_ARCHIVE_PARTS = 5000
MAX_EXPANDED_BYTES = 500 * 1024 * 1024
MAX_EXPANSION_RATIO = 100


@dataclass(frozen=True)
class FileType:
    label: str
    mime: str
    extensions: tuple[str, ...]


# What a form may accept. The type is recognised from the file's first bytes.
FILE_TYPES: dict[str, FileType] = {
    "pdf": FileType("PDF", "application/pdf", ("pdf",)),
    "png": FileType("PNG image", "image/png", ("png",)),
    "jpeg": FileType("JPEG image", "image/jpeg", ("jpg", "jpeg")),
    "webp": FileType("WebP image", "image/webp", ("webp",)),
    "docx": FileType(
        "Word document",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ("docx",),
    ),
    "xlsx": FileType(
        "Excel workbook",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ("xlsx",),
    ),
    "pptx": FileType(
        "PowerPoint presentation",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        ("pptx",),
    ),
}


class UploadError(ValueError):
    """A file that is refused; the message tells the nominator what to do."""


def upload_folder() -> Path:
    folder = Path(current_app.config["UPLOAD_FOLDER"])
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def safe_display_name(name: str | None) -> str:
    """A file name fit to show and to offer on download: no path, no control characters."""
    name = unicodedata.normalize("NFC", (name or "").replace("\\", "/").rsplit("/", 1)[-1])
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip(" .")
    return name[:200] or "file"


def sniff(head: bytes) -> str | None:
    """The key of FILE_TYPES that the content is, or None."""
    kind = filetype.guess(head)
    if kind is None:
        return None
    for key, file_type in FILE_TYPES.items():
        if kind.mime == file_type.mime:
            return key
    return None


def save_upload(
    nomination: Nomination, question: Question, storage: FileStorage, uploaded_by: User
) -> Attachment:
    """Check and store one file for a file question; raises UploadError with the reason."""
    if question.kind is not QuestionKind.FILE or question.category_id != nomination.category_id:
        raise UploadError(_l("This question does not take files."))
    options = question.options or {}
    allowed = [key for key in options.get("allowed_types", []) if key in FILE_TYPES]
    limit = min(int(options.get("max_size_mb", 10)), MAX_UPLOAD_MB) * 1024 * 1024
    display_name = safe_display_name(storage.filename)
    accepted = ", ".join(FILE_TYPES[key].label for key in allowed)

    stored_name = secrets.token_hex(16)
    path = upload_folder() / stored_name
    digest, size, head = hashlib.sha256(), 0, b""
    try:
        with open(path, "wb") as target:
            while chunk := storage.stream.read(CHUNK):
                size += len(chunk)
                if size > limit:
                    raise UploadError(
                        _l(
                            "“%(name)s” is larger than %(mb)d MB. Send a smaller file.",
                            name=display_name,
                            mb=limit // (1024 * 1024),
                        )
                    )
                if len(head) < 8192:
                    head += chunk[: 8192 - len(head)]
                digest.update(chunk)
                target.write(chunk)
        if size == 0:
            raise UploadError(_l("“%(name)s” is empty.", name=display_name))
        key = sniff(head) if head[:2] != b"PK" else _sniff_office(path, display_name)
        extension = display_name.rsplit(".", 1)[-1].lower() if "." in display_name else ""
        if key not in allowed or extension not in FILE_TYPES[key].extensions:
            raise UploadError(
                _l(
                    "“%(name)s” is not one of the accepted types (%(types)s), "
                    "judging by its content.",
                    name=display_name,
                    types=accepted,
                )
            )
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    os.chmod(path, 0o600)
    attachment = Attachment(
        nomination=nomination,
        question_id=question.id,
        original_filename=display_name,
        stored_name=stored_name,
        content_type=FILE_TYPES[key].mime,
        size_bytes=size,
        sha256=digest.hexdigest(),
        uploaded_by_id=uploaded_by.id,
    )
    db.session.add(attachment)
    return attachment


def _sniff_office(path: Path, display_name: str = "file") -> str | None:
    """Office documents are ZIP archives; look at their parts without extracting them.

    Whoever opens the file will extract it, so an archive that says it expands to far more
    than any document does (a "ZIP bomb") is refused, judging by the sizes it declares.
    """
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError):
        return None
    expanded = sum(part.file_size for part in parts)
    packed = sum(part.compress_size for part in parts)
    if (
        len(parts) > MAX_ARCHIVE_PARTS
        or expanded > MAX_EXPANDED_BYTES
        or (expanded > 1024 * 1024 and expanded > MAX_EXPANSION_RATIO * max(packed, 1))
    ):
        raise UploadError(
            _l(
                "“%(name)s” is an archive that would expand to far more than a document "
                "does, so it is refused. Save it again from your office program.",
                name=display_name,
            )
        )
    names = {part.filename for part in parts}
    if "[Content_Types].xml" not in names:
        return None
    for key, marker in (("docx", "word/"), ("xlsx", "xl/"), ("pptx", "ppt/")):
        if any(name.startswith(marker) for name in names):
            return key
    return None


def delete_stored(attachment: Attachment) -> None:
    (upload_folder() / attachment.stored_name).unlink(missing_ok=True)


def stored_path(attachment: Attachment) -> Path:
    return upload_folder() / attachment.stored_name
