"""The evidence period: which audit-log entries fall in it (UTC, start included, end excluded),
and which inputs are refused."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.orm import Session, sessionmaker

from storage import audit
from storage.db import transaction
from storage.tables import AuditEntry
from sync.ops.evidence import collect, parse_period
from sync.ops.surface import BadInput


@pytest.mark.parametrize(("text", "start", "end"), [
    ("2026-10", datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC)),
    ("2026-12", datetime(2026, 12, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)),
    (" 2026-q4 ", datetime(2026, 10, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)),
    ("2026-Q1", datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC)),
])
def test_periods(text: str, start: datetime, end: datetime) -> None:
    period = parse_period(text)
    assert (period.start, period.end) == (start, end)
    assert period.label == text.strip().upper()


@pytest.mark.parametrize("text", ["2026-13", "2026-00", "2026-Q5", "26-10", "October", "",
                                  "2026/10", "2026-10-01"])
def test_malformed_periods_are_refused_in_words(text: str) -> None:
    with pytest.raises(BadInput) as refused:
        parse_period(text)
    assert "YYYY-MM" in refused.value.message and "\n" not in refused.value.message


def _entry(session: Session, at: datetime, actor: str, action: str, subject: str) -> None:
    session.add(AuditEntry(at=at, actor=actor, action=action, opportunity_id=None,
                           subject=subject, data={"resolution": "checked by hand"}))


def test_only_people_s_actions_inside_the_period(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as s:
        _entry(s, datetime(2026, 9, 30, 23, 59, 59, tzinfo=UTC), "U1", "exception.dismissed",
               "exception:1")
        _entry(s, datetime(2026, 10, 1, 0, 0, 0, tzinfo=UTC), "U2", "exception.dismissed",
               "exception:2")
        _entry(s, datetime(2026, 10, 31, 23, 59, 59, tzinfo=UTC), "U3", "exception.dismissed",
               "exception:3")
        _entry(s, datetime(2026, 10, 15, tzinfo=UTC), "closebot", "exception.resolved",
               "exception:4")
        _entry(s, datetime(2026, 11, 1, tzinfo=UTC), "U5", "exception.dismissed", "exception:5")
        audit.append(s, action="billed", opportunity_id="006X")  # now: outside 2026-10
    with transaction(sessions) as s:
        rows = collect(s, parse_period("2026-10"), erp="ledger")
    assert [(r.who, r.reference) for r in rows] == [("U2", "exception 2"), ("U3", "exception 3")]
    assert all(r.action == "dismissal" and r.reason == "checked by hand" for r in rows)


def test_a_pdf_keeps_names_it_cannot_print_readable() -> None:
    import pypdfium2 as pdfium

    from sync.ops.evidence import EvidenceRow
    from sync.ops.evidence_pdf import to_pdf
    from sync.ops.evidence_report import AuditOutcome, Evidence

    now = datetime(2026, 10, 5, 9, 30, tzinfo=UTC)
    deal = "Zürich Rück \u2013 Ärzte"  # an en dash: in Windows-1252
    row = EvidenceRow(at=now, who="U1", action="dismissal", decision="dismissed",
                      reference="exception 1", deal=deal, customer="株式会社 Ōsaka",
                      reason="“handled” by Łukasz ✓", before="exception open", after="dismissed")
    evidence = Evidence(parse_period("2026-10"), now, "ledger", [row],
                        AuditOutcome(now, True, {"opportunities checked": 1}), {"U1": "Zoë"})
    pdf = pdfium.PdfDocument(to_pdf(evidence))
    text = " ".join(pdf[0].get_textpage().get_text_range().split())
    pdf.close()
    assert deal in text and "???? Osaka" in text
    assert "“handled” by Lukasz ?" in text and "Zoë (U1)" in text
