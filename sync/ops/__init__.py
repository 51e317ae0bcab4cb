"""What people see and decide: approvals and their cards, credits, exceptions' alerts with
Retry / Dismiss, the Slack outbox, the daily digest, the audit, and the read queries behind
slash commands, the CLI and App Home. Services here never import Slack libraries: the
composition root hands them a renderer and a directory (`surface.Deps`).

May import: the shared vocabulary, `sync.contracts`, `sync.engine` and `storage`.
"""
