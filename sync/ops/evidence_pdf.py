"""The evidence as a PDF a controller can read and file: landscape A4, one row per decision.

Built with fpdf2's core Helvetica, which needs no font files on the machine; its text is
Windows-1252 (Latin letters, €, dashes, quotes). A character outside it is written without its
accent (Ō as O, Ł as L) where it can be, else as "?", so a name never breaks the document.
"""

from __future__ import annotations

import unicodedata

from fpdf import FPDF
from fpdf.fonts import FontFace

from sync.ops.evidence import EvidenceRow
from sync.ops.evidence_report import Evidence

ENCODING = "windows-1252"
# Widths in mm, 277 in all (A4 landscape less margins); a Stripe ID fits its column unbroken.
COLUMNS = (("When (UTC)", 22), ("Who", 26), ("Action", 24), ("Deal / customer", 37),
           ("Request", 38), ("Decision and reason", 40), ("Before / after", 36),
           ("Records it produced", 54))
GREY, INK, HEAD = (235, 235, 235), (20, 20, 20), (29, 53, 87)
# Latin letters outside Windows-1252 that have no accent to strip.
_PLAIN = {"Ł": "L", "ł": "l", "Đ": "D", "đ": "d", "\u0131": "i", "Ħ": "H", "ħ": "h"}


def _text(value: str) -> str:
    try:
        value.encode(ENCODING)
        return value
    except UnicodeEncodeError:
        return "".join(_char(c) for c in value)


def _char(c: str) -> str:
    try:
        c.encode(ENCODING)
        return c
    except UnicodeEncodeError:
        if c in _PLAIN:
            return _PLAIN[c]
        plain = unicodedata.normalize("NFKD", c).encode(ENCODING, "ignore").decode(ENCODING)
        return plain or "?"


class _Document(FPDF):
    def __init__(self, title: str) -> None:
        super().__init__(orientation="L", unit="mm", format="A4")
        self.core_fonts_encoding = ENCODING
        self.title_text = title
        self.set_margins(10, 12, 10)
        self.set_auto_page_break(auto=True, margin=14)
        self.set_title(title)
        self.set_creator("closebot")

    def footer(self) -> None:
        self.set_y(-10)
        self.set_font("Helvetica", size=7)
        self.set_text_color(90, 90, 90)
        self.cell(0, 5, _text(f"{self.title_text} - page {self.page_no()} of {{nb}}"),
                  align="R")


def _heading(pdf: FPDF, text: str) -> None:
    pdf.ln(3)
    pdf.set_font("Helvetica", "B", 12)
    pdf.set_text_color(*HEAD)
    pdf.cell(0, 7, _text(text), new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(*INK)
    pdf.set_font("Helvetica", size=9)


def _line(pdf: FPDF, text: str, *, bold: bool = False) -> None:
    pdf.set_font("Helvetica", "B" if bold else "", 9)
    pdf.multi_cell(0, 5, _text(text), new_x="LMARGIN", new_y="NEXT")


def _cells(evidence: Evidence, row: EvidenceRow) -> list[str]:
    deal = "\n".join(p for p in (row.deal, row.customer, row.opportunity_id or "") if p)
    decision = row.decision + (f"\nReason: {row.reason}" if row.reason else "")
    change = "\n".join(p for p in (f"Before: {row.before}" if row.before else "",
                                   f"After: {row.after}" if row.after else "") if p)
    records = [f"Stripe {r}" for r in row.stripe] + [f"{evidence.erp} {r}" for r in row.erp]
    return [row.at.strftime("%Y-%m-%d %H:%M:%S"), evidence.who(row),
            f"{row.action}\n{row.reference}", deal, row.request, decision, change,
            "\n".join(records) or "none"]


def _actions(pdf: FPDF, evidence: Evidence) -> None:
    _heading(pdf, "Approvals, credits and manual actions")
    if not evidence.rows:
        _line(pdf, f"There were {evidence.summary()}.", bold=True)
        return
    pdf.set_font("Helvetica", size=7.5)
    heading = FontFace(emphasis="BOLD", color=(255, 255, 255), fill_color=HEAD)
    with pdf.table(col_widths=tuple(w for _, w in COLUMNS), text_align="LEFT",
                   line_height=3.6, padding=1, headings_style=heading, cell_fill_color=GREY,
                   cell_fill_mode="ROWS", v_align="TOP", repeat_headings=1) as table:
        head = table.row()
        for name, _ in COLUMNS:
            head.cell(name)
        for row in evidence.rows:
            cells = table.row()
            for value in _cells(evidence, row):
                cells.cell(_text(value))


def _audit(pdf: FPDF, evidence: Evidence) -> None:
    audit = evidence.audit
    _heading(pdf, "Audit of the books")
    _line(pdf, f"Run at {audit.ran_at:%Y-%m-%d %H:%M:%S} UTC across Salesforce, Stripe, the "
               f"{evidence.erp} and closebot's records: {audit.verdict.upper()}", bold=True)
    if audit.error:
        _line(pdf, f"The audit could not run: {audit.error}")
    for name, value in audit.counts.items():
        _line(pdf, f"{name}: {value}")
    for problem in audit.problems:
        _line(pdf, f"Violation: {problem}")


def to_pdf(evidence: Evidence) -> bytes:
    period = evidence.period
    title = f"closebot SOX evidence for {period.label}"
    pdf = _Document(title)
    pdf.alias_nb_pages()
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.set_text_color(*HEAD)
    pdf.cell(0, 9, _text(f"SOX evidence for {period.label}"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(*INK)
    _line(pdf, f"Period: {period.span}. Generated {evidence.generated_at:%Y-%m-%d %H:%M:%S} "
               f"UTC by closebot from its append-only audit log and ID links; ERP: "
               f"{evidence.erp}.")
    _line(pdf, f"Summary: {evidence.summary()}. Audit: {evidence.audit.verdict}.", bold=True)
    _actions(pdf, evidence)
    _audit(pdf, evidence)
    return bytes(pdf.output())
