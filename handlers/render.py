"""The Block Kit renderer the services are given (they never import Slack code themselves)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from handlers import blocks_alerts, blocks_cards

Message = tuple[str, list[dict[str, Any]]]


@dataclass(frozen=True)
class BlockRenderer:
    reminder_hours: int = 24

    def approval_card(self, card: Any) -> Message:
        return blocks_cards.approval_card(card)

    def reminder(self, card: Any) -> Message:
        return blocks_cards.reminder(card, hours=self.reminder_hours)

    def alert(self, alert: Any) -> Message:
        return blocks_alerts.alert(alert)

    def group_alert(self, group: Any) -> Message:
        return blocks_alerts.group_alert(group)

    def owner_dm(self, alert: Any) -> Message:
        return blocks_alerts.owner_dm(alert)

    def digest(self, digest: Any) -> Message:
        return blocks_alerts.digest(digest)
