"""Spreadsheet and archive exports, safe to open in Excel, LibreOffice or Google Sheets."""

from __future__ import annotations

import csv
import io
import shutil
import tempfile
import zipfile
from collections.abc import Iterable, Sequence
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from .models import Attachment
from .uploads import CHUNK, safe_display_name, stored_path

# A spreadsheet evaluates a cell starting with one of these as a formula (OWASP's list).
FORMULA_STARTS = ("=", "+", "-", "@")
CONTROL_STARTS = ("\t", "\r")
# Excel keeps at most this many characters in a cell.
EXCEL_CELL_LIMIT = 32_767
WIDEST_COLUMN = 60
# Archives up to this size stay in memory; larger ones spill to a temporary file on disk.
ZIP_IN_MEMORY = 8 * 1024 * 1024
# Already compressed: deflating them again costs time and saves nothing.
_STORED_TYPES = ("image/", "application/vnd.openxmlformats-officedocument.")


def neutralise(value: Any) -> Any:
    """Text that a spreadsheet would run as a formula, made inert with a leading quote."""
    if not isinstance(value, str) or not value:
        return value
    if value.startswith(CONTROL_STARTS) or value.lstrip().startswith(FORMULA_STARTS):
        return "'" + value
    return value


def to_csv(header: Sequence[Any], rows: Iterable[Sequence[Any]]) -> bytes:
    """CSV in UTF-8 with a byte order mark, which Excel needs to read accents correctly."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([neutralise(value) for value in header])
    for row in rows:
        writer.writerow([neutralise(value) for value in row])
    return buffer.getvalue().encode("utf-8-sig")


def _cell_text(value: Any) -> Any:
    if value is None:
        return ""
    if not isinstance(value, str):
        return value
    # XML cannot carry most control characters; openpyxl refuses them.
    return neutralise(ILLEGAL_CHARACTERS_RE.sub("", value))[:EXCEL_CELL_LIMIT]


def to_xlsx(
    header: Sequence[Any], rows: Iterable[Sequence[Any]], title: str = "Nominations"
) -> bytes:
    """A workbook with a bold, frozen header row; every text is a text cell, never a formula."""
    rows = [[_cell_text(value) for value in row] for row in rows]
    header = [_cell_text(value) for value in header]
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31])
    for index, label in enumerate(header, start=1):
        longest = max(
            [len(str(label)), *(len(str(row[index - 1])) for row in rows if len(row) >= index)]
        )
        sheet.column_dimensions[get_column_letter(index)].width = min(
            max(longest, 8) + 2, WIDEST_COLUMN
        )
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    sheet.append([_text_cell(sheet, label, font=bold) for label in header])
    for row in rows:
        sheet.append([_text_cell(sheet, value) for value in row])
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()


def _text_cell(sheet: Any, value: Any, font: Font | None = None) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, str):
        cell.data_type = "s"  # openpyxl would otherwise store "=..." as a formula
    if font is not None:
        cell.font = font
    return cell


def _unique(name: str, taken: set[str]) -> str:
    """The name, or "name (2).ext", "name (3).ext"... if a file of the folder already has it."""
    stem, dot, extension = name.rpartition(".")
    if not dot or not stem:
        stem, dot, extension = name, "", ""
    candidate, number = name, 1
    while candidate.casefold() in taken:  # Windows and macOS folders ignore case
        number += 1
        candidate = f"{stem} ({number}){dot}{extension}"
    taken.add(candidate.casefold())
    return candidate


def attachments_zip(nomination_rows: Iterable[tuple[str, Iterable[Attachment]]]) -> IO[bytes]:
    """A ZIP of every attachment, one folder per nomination reference, in a temporary file.

    Files are copied in chunks, so neither they nor the archive need to fit in memory. The
    caller sends and closes the returned file, which deletes it. Files missing from disk are
    listed in ``missing-files.txt`` instead of failing the whole export.
    """
    # Not a context manager: the caller sends the file, and closing it deletes it.
    archive_file = tempfile.SpooledTemporaryFile(max_size=ZIP_IN_MEMORY)  # noqa: SIM115
    missing: list[str] = []
    folders: set[str] = set()
    try:
        with zipfile.ZipFile(archive_file, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for reference, attachments in nomination_rows:
                folder = _unique(safe_display_name(reference), folders)
                taken: set[str] = set()
                for attachment in attachments:
                    path = stored_path(attachment)
                    name = _unique(safe_display_name(attachment.original_filename), taken)
                    if not path.is_file():
                        missing.append(f"{folder}/{name}")
                        continue
                    info = zipfile.ZipInfo(f"{folder}/{name}", _zip_time(attachment))
                    info.compress_type = (
                        zipfile.ZIP_STORED
                        if attachment.content_type.startswith(_STORED_TYPES)
                        else zipfile.ZIP_DEFLATED
                    )
                    info.external_attr = 0o644 << 16
                    with open(path, "rb") as source, archive.open(info, "w") as target:
                        shutil.copyfileobj(source, target, CHUNK)
            if missing:
                archive.writestr(
                    "missing-files.txt",
                    "These files were not found in storage:\n" + "\n".join(missing) + "\n",
                )
    except BaseException:
        archive_file.close()
        raise
    archive_file.seek(0)
    return archive_file


def _zip_time(attachment: Attachment) -> tuple[int, int, int, int, int, int]:
    moment = attachment.created_at
    if moment is None or moment.year < 1980:  # ZIP dates start in 1980
        return (1980, 1, 1, 0, 0, 0)
    return moment.timetuple()[:6]
