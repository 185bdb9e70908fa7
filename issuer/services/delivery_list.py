"""The delivery list as a PDF (fpdf2): per learner the row, who, the state, the link, the
PIN and a QR code, for institutions that hand the offers out through their own channel
(a mentor's printout, their own mail system, a learning platform).

The caller passes every word (headers, title); this module lays them out and adds none.
fpdf2's built-in Helvetica covers Latin-1 only, so text outside it is replaced rather than
failing the download; names and e-mail addresses in Dutch institutions fit Latin-1.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence

from fpdf import FPDF

from .delivery_mail import qr_png

COLUMNS = ("row", "email", "student_number", "state", "link", "pin")
QR_MM = 32


def _latin1(text: object) -> str:
    return str(text).replace("\u2013", "-").encode("latin-1", "replace").decode("latin-1")


def pdf(
    *,
    title: str,
    subtitle: str,
    headers: Mapping[str, str],
    rows: Sequence[Mapping[str, str | int]],
    scan_hint: str,
) -> bytes:
    """An A4 PDF: one block per learner, with a QR code where the link still works."""
    doc = FPDF(format="A4")
    doc.set_auto_page_break(auto=True, margin=15)
    doc.set_title(_latin1(title))
    doc.add_page()
    doc.set_font("Helvetica", "B", 15)
    doc.multi_cell(0, 8, _latin1(title), new_x="LMARGIN", new_y="NEXT")
    doc.set_font("Helvetica", "", 10)
    doc.multi_cell(0, 6, _latin1(subtitle), new_x="LMARGIN", new_y="NEXT")
    doc.multi_cell(0, 6, _latin1(scan_hint), new_x="LMARGIN", new_y="NEXT")
    doc.ln(4)
    for row in rows:
        if doc.get_y() + QR_MM + 6 > doc.h - 15:
            doc.add_page()
        top = doc.get_y()
        if row.get("uri"):
            doc.image(io.BytesIO(qr_png(str(row["uri"]))), x=doc.l_margin, y=top, w=QR_MM)
        doc.set_xy(doc.l_margin + QR_MM + 4, top)
        width = doc.w - doc.r_margin - doc.get_x()
        for key in COLUMNS:
            value = row.get(key, "")
            if value in ("", None):
                continue
            doc.set_x(doc.l_margin + QR_MM + 4)
            doc.set_font("Helvetica", "B", 9)
            doc.cell(32, 5, _latin1(headers.get(key, key)))
            doc.set_font("Helvetica", "", 9)
            doc.multi_cell(width - 32, 5, _latin1(value), new_x="LMARGIN", new_y="NEXT")
        doc.set_y(max(doc.get_y(), top + QR_MM) + 4)
        doc.line(doc.l_margin, doc.get_y() - 2, doc.w - doc.r_margin, doc.get_y() - 2)
    return bytes(doc.output())
