"""The Slack surface: thin listeners (parse → one service call → a Block Kit builder).

`register` wires every listener named in `handlers.ids` and returns what it registered, which
the manifest test compares with `manifest.yml`.
"""

from __future__ import annotations

import re
from typing import Any

from handlers.actions import ACTIONS
from handlers.commands import COMMANDS
from handlers.context import Surface
from handlers.errors import reported
from handlers.home import home_opened
from handlers.ids import Event
from handlers.views import VIEWS

Registered = list[tuple[str, str]]


def register(app: Any, surface: Surface) -> Registered:
    def inject(context: Any, next: Any) -> None:
        context["surface"] = surface
        next()

    app.use(inject)
    done: Registered = []
    for command, (ack_fn, lazy) in COMMANDS.items():
        name = surface.names[command]
        app.command(name)(ack=ack_fn, lazy=[reported(f, surface) for f in lazy])
        done.append(("command", name))
    for action, (ack_fn, lazy) in ACTIONS.items():
        matcher = re.compile(rf"^{re.escape(action.value)}(:.*)?$")
        app.action(matcher)(ack=ack_fn, lazy=[reported(f, surface) for f in lazy])
        done.append(("action", action.value))
    for view, (ack_fn, lazy) in VIEWS.items():
        app.view(view.value)(ack=ack_fn, lazy=[reported(f, surface) for f in lazy])
        done.append(("view", view.value))
    app.event(Event.APP_HOME_OPENED.value)(home_opened)
    done.append(("event", Event.APP_HOME_OPENED.value))
    return done
