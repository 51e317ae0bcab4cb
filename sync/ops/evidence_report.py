"""The evidence document: the period's rows, the audit's result, and the CSV form of both.

The audit checks the books as they stand when the evidence is made (it is not a replay of the
period); its time is printed next to its result. The CSV is one table: a `summary` row, one
`action` row per decision, then `audit` rows (the verdict, the counts, each violation), so a
spreadsheet filter on `section` separates them.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sync.ops.audit import AuditReport
from sync.ops.evidence import EvidenceRow, Period, empty_message

COLUMNS = ("section", "when_utc", "who", "who_name", "action", "decision", "reference",
           "opportunity_id", "deal", "customer", "request", "reason", "before", "after",
           "stripe_records", "erp_records")
# A spreadsheet runs a cell starting with these as a formula; reasons are typed by people.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NOUNS = {"approval decision": ("approval decision", "approval decisions"),
          "credit request": ("credit request", "credit requests"),
          "retry": ("retry", "retries"), "dismissal": ("dismissal", "dismissals")}


@dataclass(frozen=True)
class AuditOutcome:
    ran_at: datetime
    ok: bool | None  # None: the audit could not run
    counts: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    error: str | None = None

    @classmethod
    def of(cls, run: Callable[[], AuditReport], now: datetime) -> AuditOutcome:
        try:
            report = run()
        except Exception as error:  # the evidence still says what it has, and why not the rest
            reason = getattr(error, "reason", None) or str(error) or type(error).__name__
            return cls(now, None, error=reason)
        counts = {"opportunities checked": report.opportunities,
                  "duplicates": report.duplicates, "lost deals": len(report.lost),
                  "unbalanced entries": len(report.unbalanced),
                  "open exceptions": report.open_exceptions,
                  "open exceptions alerted in Slack": report.alerts}
        return cls(now, report.ok, counts, report.problems())

    @property
    def verdict(self) -> str:
        if self.ok is None:
            return "not run"
        return "books intact" if self.ok else "violations found"


@dataclass(frozen=True)
class Evidence:
    period: Period
    generated_at: datetime
    erp: str
    rows: list[EvidenceRow]
    audit: AuditOutcome
    names: dict[str, str] = field(default_factory=dict)  # Slack user ID → name, when known

    def summary(self) -> str:
        if not self.rows:
            return empty_message(self.period)
        counts = Counter(row.action for row in self.rows)
        order = [*(a for a in _NOUNS if a in counts), *(a for a in counts if a not in _NOUNS)]
        parts = []
        for action in order:
            n = counts[action]
            one, many = _NOUNS.get(action, (action, action))
            parts.append(f"{n} {one if n == 1 else many}")
        return f"{', '.join(parts)} in {self.period.label}"

    def who(self, row: EvidenceRow) -> str:
        name = self.names.get(row.who)
        return f"{name} ({row.who})" if name and name != row.who else row.who


def _cell(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA_START) else value


def to_csv(evidence: Evidence) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()

    def write(**values: str) -> None:
        writer.writerow({k: _cell(str(values.get(k, ""))) for k in COLUMNS})

    write(section="summary", when_utc=evidence.generated_at.isoformat(timespec="seconds"),
          action="period", request=f"{evidence.period.label} ({evidence.period.span})",
          reason=evidence.summary())
    for row in evidence.rows:
        write(section="action", when_utc=row.at.isoformat(timespec="seconds"), who=row.who,
              who_name=evidence.names.get(row.who, ""), action=row.action,
              decision=row.decision, reference=row.reference,
              opportunity_id=row.opportunity_id or "", deal=row.deal, customer=row.customer,
              request=row.request, reason=row.reason, before=row.before, after=row.after,
              stripe_records="; ".join(row.stripe),
              erp_records="; ".join(f"{evidence.erp} {r}" for r in row.erp))
    audit = evidence.audit
    when = audit.ran_at.isoformat(timespec="seconds")
    write(section="audit", when_utc=when, who="closebot", action="audit result",
          decision=audit.verdict, reason=audit.error or "")
    for name, value in audit.counts.items():
        write(section="audit", when_utc=when, who="closebot", action="count", request=name,
              after=str(value))
    for problem in audit.problems:
        write(section="audit", when_utc=when, who="closebot", action="violation",
              reason=problem)
    return out.getvalue()
