"""What a command acting for a person needs: closebot's database, the Slack services'
dependencies (the same as the buttons get), and who that person is in Slack."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from app.cli_support import CliFailure, existing_database, load_settings
from app.settings import Settings
from sync.ops.surface import Deps

SLACK_ID = re.compile(r"[UW][A-Z0-9]{2,}")


class NoDirectory:
    """Without Slack there is nobody to look up: user groups are empty, emails unknown."""

    def user_for_email(self, email: str) -> str | None:
        return None

    def group_members(self, group_id: str) -> frozenset[str]:
        return frozenset()


@dataclass
class OpsContext:
    settings: Settings
    sessions: sessionmaker[Session]
    deps: Deps

    @classmethod
    def open(cls) -> OpsContext:
        from app.slack_app import build_deps

        settings = load_settings()
        sessions = existing_database(settings)
        if settings.slack_bot_token is None:
            return cls(settings, sessions, build_deps(settings, sessions, NoDirectory()))
        from app.slack_client import SlackDirectory, make_client

        directory = SlackDirectory(make_client(settings))
        return cls(settings, sessions, build_deps(settings, sessions, directory))

    @property
    def slack(self) -> bool:
        return self.settings.slack_bot_token is not None

    def actor(self, who: str) -> str:
        """The Slack user ID the services check and the audit log records."""
        who = who.strip()
        if "@" not in who:
            if not SLACK_ID.fullmatch(who):
                raise CliFailure(f"--as takes a Slack user ID (like U012AB3CD) or an email, "
                                 f"not {who!r}")
            return who
        if not self.slack:
            raise CliFailure(f"finding {who} needs Slack (SLACK_BOT_TOKEN); give their Slack "
                             "user ID (U…) to --as instead")
        found = self.deps.directory.user_for_email(who)
        if not found:
            raise CliFailure(f"no Slack user has the email {who}")
        return found

    def flush(self) -> None:
        """Send what a service queued for Slack (an alert's new state), as the buttons do."""
        if self.slack:
            from app.slack_client import SlackSender, make_client
            from sync.ops import outbox

            outbox.flush(self.sessions, SlackSender(make_client(self.settings)))
