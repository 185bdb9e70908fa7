"""A printable microcredential as PDF (fpdf2): the document a learner attaches to a letter.

The PDF is a rendering, not the credential: what proves anything is the QR code on it, which
opens a share link of the credential (the verifier's landing page checks signature, status
and holder there). The text arrives already translated (the caller's catalogue); this module
only lays it out. DejaVu Sans is used when the system has it (every character of every
language); otherwise the PDF core font, with characters outside Latin-1 replaced.
"""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass, field
from pathlib import Path

from fpdf import FPDF

from servicekit.qr import qr_png

_FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/dejavu"))


@dataclass(frozen=True)
class PrintedCredential:
    title: str
    institution: str
    state_label: str
    rows: list[tuple[str, str]]
    footer: str
    qr_url: str | None = None
    qr_caption: str = ""
    badge_png: bytes | None = None
    notes: list[str] = field(default_factory=list)


def _font(pdf: FPDF) -> str:
    for directory in _FONT_DIRS:
        regular, bold = directory / "DejaVuSans.ttf", directory / "DejaVuSans-Bold.ttf"
        if regular.is_file() and bold.is_file():
            pdf.add_font("DejaVu", "", str(regular))
            pdf.add_font("DejaVu", "B", str(bold))
            return "DejaVu"
    return "Helvetica"


def render_pdf(doc: PrintedCredential) -> bytes:
    pdf = FPDF(format="A4")
    pdf.set_margins(18, 18, 18)
    pdf.set_auto_page_break(auto=True, margin=18)
    pdf.add_page()
    family = _font(pdf)

    def text(value: str) -> str:
        if family != "Helvetica":
            return value
        return value.encode("latin-1", errors="replace").decode("latin-1")

    width = pdf.w - pdf.l_margin - pdf.r_margin
    if doc.badge_png:
        # an image fpdf cannot read is left out, never a failed PDF
        with contextlib.suppress(Exception):
            pdf.image(io.BytesIO(doc.badge_png), x=pdf.w - pdf.r_margin - 28, y=18, w=28)
    pdf.set_font(family, "B", 18)
    pdf.multi_cell(width - 32, 9, text(doc.title), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(family, "", 12)
    pdf.multi_cell(width - 32, 7, text(doc.institution), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(family, "B", 12)
    pdf.multi_cell(width - 32, 7, text(doc.state_label), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    for note in doc.notes:
        pdf.set_font(family, "", 10)
        pdf.multi_cell(width, 5, text(note), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)
    label_width = 58
    for label, value in doc.rows:
        pdf.set_font(family, "B", 9)
        y = pdf.get_y()
        pdf.multi_cell(label_width, 5, text(label), new_x="RIGHT", new_y="TOP")
        after_label = pdf.get_y()
        pdf.set_xy(pdf.l_margin + label_width, y)
        pdf.set_font(family, "", 9)
        pdf.multi_cell(width - label_width, 5, text(value), new_x="LMARGIN", new_y="NEXT")
        pdf.set_y(max(pdf.get_y(), after_label) + 1.5)
    if doc.qr_url:
        if pdf.get_y() > pdf.h - 80:
            pdf.add_page()
        pdf.ln(4)
        pdf.image(io.BytesIO(qr_png(doc.qr_url)), w=45)
        pdf.set_font(family, "", 9)
        pdf.multi_cell(width, 5, text(doc.qr_caption), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(family, "", 7)
        pdf.multi_cell(width, 4, text(doc.qr_url), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font(family, "", 8)
    pdf.multi_cell(width, 4, text(doc.footer), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


__all__ = ["PrintedCredential", "render_pdf"]
