"""`/closebot dry-run <deal>` answers: per system, each record a sync would create or update."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import Block

from handlers import strings
from handlers.blocks import context, header, message, section
from handlers.blocks_invoice import ephemeral
from sync.ops.dryrun_plan import DealPlan, DryRun, PlannedRecord

MARKS = {"create": ":heavy_plus_sign:", "update": ":pencil2:", "use existing": ":link:"}
MAX_SECTIONS = 40  # room under Slack's 50 blocks for the header, verdict and notes


def dry_run_message(result: DryRun, *, opportunity: str) -> dict[str, Any]:
    if not result.deals:
        text = strings.DRY_RUN_MISSING.format(opp=opportunity)
        return ephemeral(text, message([section(text)]))
    deal = result.deals[0]
    title = strings.DRY_RUN_TITLE.format(deal=deal.name)
    amount = f" · {deal.amount}" if deal.amount else ""
    blocks: list[Block] = [header(title), section(strings.DRY_RUN_VERDICT.format(
        verdict=deal.verdict.capitalize(), amount=amount))]
    notes = _notes(deal)
    if notes:
        blocks.append(section(notes))
    sections = _sections(deal)
    blocks += sections[:MAX_SECTIONS]
    if len(sections) > MAX_SECTIONS:
        blocks.append(context(strings.DRY_RUN_MORE.format(n=len(sections) - MAX_SECTIONS,
                                                          opp=deal.opportunity_id)))
    if deal.outcome == "unchanged" and not deal.records:
        blocks.append(section(strings.DRY_RUN_NOTHING))
    return ephemeral(f"{title}: {deal.verdict}", message(blocks))


def _notes(deal: DealPlan) -> str:
    lead = {"invalid": strings.DRY_RUN_INVALID, "failed": strings.DRY_RUN_FAILED}.get(
        deal.outcome)
    lines = [lead] if lead and deal.problems else []
    lines += [f"• {p}" for p in deal.problems]
    if deal.approval:
        lines.append(strings.DRY_RUN_APPROVAL)
        lines += [f"• {r}" for r in deal.approval]
    return "\n".join(lines)


def _sections(deal: DealPlan) -> list[Block]:
    """One section per phase and system, listing its records."""
    groups: dict[tuple[str, str], list[PlannedRecord]] = {}
    for record in deal.records:
        groups.setdefault((record.phase, record.system), []).append(record)
    out: list[Block] = []
    for (phase, system), records in groups.items():
        lines = [f"*{system}* · {strings.DRY_RUN_PHASE.get(phase, phase)}"]
        lines += [_line(r) for r in records]
        out.append(section("\n".join(lines)))
    return out


def _line(r: PlannedRecord) -> str:
    amount = f" · *{r.amount}*" if r.amount else ""
    head = (f"{MARKS.get(r.action, '•')} {r.action} {r.kind} `{r.id}`: "
            f"{r.title}{amount}")
    extra = [*r.details[:6], *(f"{name}: {value}" for name, value in r.fields)]
    return "\n".join([head, *(f"      {x}" for x in extra)])
