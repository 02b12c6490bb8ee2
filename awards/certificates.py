"""Certificates: one PDF per winner and honourable mention, drawn with fpdf2.

Names arrive in every script. The text is shaped by HarfBuzz (uharfbuzz), so Arabic letters
join and run right to left, and each character the main font lacks is taken from a fallback
font: DejaVu Sans for Arabic, a CJK font for Chinese, Japanese and Korean. The fonts are
Debian's fonts-dejavu-core and fonts-droid-fallback (``make fonts`` installs them); fpdf2
embeds only the glyphs used, so a certificate stays small.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from flask import current_app
from flask_babel import format_date, get_locale
from flask_babel import gettext as _
from fpdf import FPDF
from fpdf.enums import Align, XPos, YPos

from .countries import country_name
from .feeds import citation_text
from .models import Decision, DecisionKind

# Where fonts live on Debian and most other systems; CERTIFICATE_FONT_DIR (a setting) first.
FONT_DIRS = (
    "/usr/share/fonts",
    "/usr/local/share/fonts",
    "~/.local/share/fonts",
    "~/.fonts",
)
# Each role of font, with the files that can play it (the first found wins) and, for font
# collections, which font of the collection to use.
FONT_FILES: dict[str, tuple[tuple[str, int], ...]] = {
    "serif": (("DejaVuSerif.ttf", 0),),
    "serif-bold": (("DejaVuSerif-Bold.ttf", 0),),
    "serif-italic": (("DejaVuSerif-Italic.ttf", 0),),
    "sans": (("DejaVuSans.ttf", 0),),
    "sans-bold": (("DejaVuSans-Bold.ttf", 0),),
    "cjk": (
        ("DroidSansFallbackFull.ttf", 0),
        ("DroidSansFallback.ttf", 0),
        ("wqy-microhei.ttc", 0),
        ("wqy-zenhei.ttc", 0),
    ),
}
REQUIRED_FONTS = ("serif", "serif-bold", "sans", "sans-bold")

NAVY = (7, 55, 99)
GREEN = (30, 107, 58)
GOLD = (176, 141, 38)
INK = (27, 27, 27)
GREY = (85, 85, 85)

# A4 landscape, in millimetres.
WIDTH, HEIGHT = 297.0, 210.0
TEXT_LEFT, TEXT_WIDTH = 34.0, WIDTH - 68.0
CITATION_TOP, CITATION_BOTTOM = 131.0, 166.0


class CertificateError(RuntimeError):
    """A certificate cannot be drawn here (its fonts are missing)."""


@dataclass(frozen=True)
class Fonts:
    files: dict[str, tuple[Path, int]]

    @property
    def has_cjk(self) -> bool:
        return "cjk" in self.files


@cache
def _font_index(directories: tuple[str, ...]) -> dict[str, Path]:
    """File name -> path of every font file under the directories (the first one wins)."""
    found: dict[str, Path] = {}
    for directory in directories:
        root = Path(directory).expanduser()
        if not root.is_dir():
            continue
        for folder, _subfolders, files in os.walk(root):
            for name in files:
                if name.lower().endswith((".ttf", ".ttc")):
                    found.setdefault(name, Path(folder) / name)
    return found


def find_fonts() -> Fonts:
    configured = current_app.config.get("CERTIFICATE_FONT_DIR")
    directories = ((configured,) if configured else ()) + FONT_DIRS
    index = _font_index(directories)
    files: dict[str, tuple[Path, int]] = {}
    for role, candidates in FONT_FILES.items():
        for name, number in candidates:
            if name in index:
                files[role] = (index[name], number)
                break
    missing = [role for role in REQUIRED_FONTS if role not in files]
    if missing:
        raise CertificateError(
            "certificate fonts not found (install Debian's fonts-dejavu-core): "
            + ", ".join(FONT_FILES[role][0][0] for role in missing)
        )
    return Fonts(files)


class _Certificate(FPDF):
    def __init__(self, fonts: Fonts) -> None:
        super().__init__(orientation="L", unit="mm", format="A4")
        self.set_auto_page_break(False)
        self.set_margin(0)
        files = fonts.files
        self.add_font("serif", "", files["serif"][0], collection_font_number=files["serif"][1])
        self.add_font(
            "serif", "B", files["serif-bold"][0], collection_font_number=files["serif-bold"][1]
        )
        self.italic = "I" if "serif-italic" in files else ""
        if self.italic:
            path, number = files["serif-italic"]
            self.add_font("serif", "I", path, collection_font_number=number)
        self.add_font("sans", "", files["sans"][0], collection_font_number=files["sans"][1])
        self.add_font(
            "sans", "B", files["sans-bold"][0], collection_font_number=files["sans-bold"][1]
        )
        fallbacks = ["sans"]
        if fonts.has_cjk:
            self.add_font("cjk", "", files["cjk"][0], collection_font_number=files["cjk"][1])
            fallbacks.append("cjk")
        # Not an exact match: a bold Chinese name falls back to the regular CJK font.
        self.set_fallback_fonts(fallbacks, exact_match=False)
        self.set_text_shaping(True)

    def family_for(self, text: str) -> str:
        """The serif when it has every letter; otherwise the sans, which covers more scripts.

        A line in one font stays one run of text, so a right-to-left name is also stored in
        reading order, and copying it from the PDF gives it back as written.
        """
        covered = self.fonts["serif"].cmap
        return "serif" if all(ord(c) in covered for c in text if not c.isspace()) else "sans"

    def centred(self, y: float, text: str, size: float, style: str = "", colour=INK) -> None:
        self.set_xy(TEXT_LEFT, y)
        self.set_text_color(*colour)
        self.set_font(self.family_for(text), style, size)
        # Long names shrink until they fit on one line.
        while size > 12 and self.get_string_width(text) > TEXT_WIDTH:
            size -= 1
            self.set_font_size(size)
        if self.get_string_width(text) > TEXT_WIDTH:  # still too long: cut, and say so
            while len(text) > 1 and self.get_string_width(text + " …") > TEXT_WIDTH:
                text = text[:-1]
            text = text.rstrip() + " …"
        self.cell(TEXT_WIDTH, size * 0.5, text, align=Align.C, new_x=XPos.LMARGIN)

    def frame(self) -> None:
        self.set_draw_color(*NAVY)
        self.set_line_width(1.6)
        self.rect(9, 9, WIDTH - 18, HEIGHT - 18)
        self.set_draw_color(*GREEN)
        self.set_line_width(0.4)
        self.rect(13, 13, WIDTH - 26, HEIGHT - 26)
        self.set_draw_color(*GOLD)
        self.set_line_width(0.8)
        self.line(WIDTH / 2 - 30, 62, WIDTH / 2 + 30, 62)

    def citation(self, text: str) -> None:
        """The citation in the box between the award and the footer, smaller if it is long."""
        self.set_text_color(*INK)
        box = CITATION_BOTTOM - CITATION_TOP
        size = 13.0
        while True:
            family = self.family_for(text)
            self.set_font(family, self.italic if family == "serif" else "", size)
            lines = self.multi_cell(
                TEXT_WIDTH, size * 0.45, text, align=Align.C, dry_run=True, output="LINES"
            )
            if len(lines) * size * 0.45 <= box or size <= 8:
                break
            size -= 0.5
        fitting = int(box // (size * 0.45))
        if len(lines) > fitting:  # still too long at the smallest size: end with an ellipsis
            lines = lines[:fitting]
            lines[-1] = lines[-1].rstrip() + " …"
        self.set_xy(TEXT_LEFT, CITATION_TOP)
        self.multi_cell(
            TEXT_WIDTH,
            size * 0.45,
            "\n".join(lines),
            align=Align.C,
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )


def certificate_pdf(decision: Decision) -> bytes:
    """The certificate of an approved decision, as PDF bytes, in the current language."""
    fonts = find_fonts()
    nomination = decision.nomination
    category = nomination.category
    edition = category.edition
    pdf = _Certificate(fonts)
    pdf.set_title(
        _("Certificate: %(name)s, %(award)s", name=decision.public_name, award=category.title)
    )
    pdf.set_author(_("EMG Secretariat for the UN E-waste Coalition"))
    pdf.set_subject(edition.name)
    pdf.set_creator("E-waste Awards")
    pdf.set_lang(str(get_locale() or "en"))
    pdf.add_page()
    pdf.frame()

    pdf.centred(24, _("UN E-waste Coalition"), 12, colour=GREY)
    pdf.centred(32, edition.name, 16, "B", colour=NAVY)
    if decision.kind is DecisionKind.WINNER:
        heading = _("Certificate of Award")
    else:
        heading = _("Certificate of Honourable Mention")
    pdf.centred(46, heading, 26, "B", colour=GREEN)

    pdf.centred(70, _("presented to"), 12, colour=GREY)
    pdf.centred(79, decision.public_name, 30, "B")
    who = [decision.public_organisation] if decision.public_organisation else []
    if decision.public_country:
        who.append(country_name(decision.public_country))
    if who:
        pdf.centred(98, " · ".join(who), 13)
    if decision.kind is DecisionKind.WINNER:
        award = _("winner of the %(award)s", award=category.title)
    else:
        award = _("honourable mention in the %(award)s", award=category.title)
    pdf.centred(110, award, 15, "B", colour=NAVY)
    pdf.centred(119, _("issued by %(member)s", member=category.organisation.name), 12)

    citation = citation_text(decision.citation)
    if citation:
        pdf.citation(citation)

    event = edition.event_name
    if edition.event_venue:
        event = f"{event}, {edition.event_venue}"
    pdf.centred(172, _("Announced at %(event)s", event=event), 11, colour=GREY)
    # The ceremony's own date, not shifted into the reader's time zone.
    pdf.centred(179, format_date(edition.ceremony_at, "long", rebase=False), 11, colour=GREY)
    pdf.set_font("sans", "", 8)
    pdf.set_text_color(*GREY)
    pdf.set_xy(TEXT_LEFT, 189)
    pdf.cell(TEXT_WIDTH, 4, nomination.reference, align=Align.C)
    return bytes(pdf.output())


def certificate_filename(decision: Decision) -> str:
    return f"certificate-{decision.nomination.reference}.pdf"
