"""The App Home tab: today's numbers and the approvals waiting for the viewer."""

from __future__ import annotations

from typing import Any

from handlers.blocks_alerts import home_view
from handlers.context import surface
from sync.ops import digest


def home_opened(event: dict[str, Any], context: Any, client: Any) -> None:
    if event.get("tab", "home") != "home":
        return
    s = surface(context)
    numbers = digest.home(s.deps, event["user"], timezone=s.timezone)
    client.views_publish(user_id=event["user"], view=home_view(numbers))
