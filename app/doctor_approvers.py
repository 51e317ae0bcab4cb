"""`closebot doctor`: someone may approve. Held deals and credits wait for an approver; with none
configured, or only people who aren't in the workspace, they wait forever."""

from __future__ import annotations

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from app.settings import Settings
from sync.ports import Check

SYSTEM = "Slack"
MEMBER_ID = "use a member ID from their profile (⋮ → Copy member ID)"


def _ids(value: str) -> list[str]:
    return [u.strip() for u in value.split(",") if u.strip()]


def _user_problem(client: WebClient, user_id: str, setting: str) -> Check | None:
    try:
        user = client.users_info(user=user_id)["user"]
    except SlackApiError as error:
        if error.response.get("error") in ("user_not_found", "users_not_found"):
            return Check(SYSTEM, False, f"approver {user_id} ({setting}) is not in this Slack "
                                        "workspace", MEMBER_ID)
        raise
    if user.get("deleted"):
        return Check(SYSTEM, False, f"approver {user_id} ({setting}) is deactivated",
                     f"remove them from {setting} or name someone else")
    if user.get("is_bot"):
        return Check(SYSTEM, False, f"approver {user_id} ({setting}) is a bot",
                     f"name a person in {setting}")
    return None


def _group_problem(client: WebClient, group: str, setting: str) -> Check | None:
    try:
        members = client.usergroups_users_list(usergroup=group)["users"]
    except SlackApiError as error:
        return Check(SYSTEM, False, f"user group {group} ({setting}) can't be read "
                                    f"({error.response.get('error')})",
                     "use the group's ID (S…) from the group's page, and the usergroups:read "
                     "scope")
    if not members:
        return Check(SYSTEM, False, f"user group {group} ({setting}) has no members",
                     "add the approvers to the group")
    return None


def _one(client: WebClient | None, users: list[str], group: str | None, users_setting: str,
         group_setting: str) -> list[Check]:
    problems: list[Check] = []
    if client is not None:
        try:
            problems += [p for u in users if (p := _user_problem(client, u, users_setting))]
            if group and (p := _group_problem(client, group, group_setting)):
                problems.append(p)
        except (SlackApiError, SlackClientError, OSError) as error:
            return [Check(SYSTEM, False, f"can't check the approvers: {type(error).__name__}",
                          "check the Slack settings above and try again")]
    if problems:
        return problems
    people = f"{len(users)} {'person' if len(users) == 1 else 'people'} in {users_setting}"
    parts = [people] if users else []
    if group:
        parts.append(f"the user group {group} ({group_setting})")
    where = ", found in the workspace" if client is not None else ""
    return [Check(SYSTEM, True, f"approvers: {' and '.join(parts)}{where}")]


def approver_checks(settings: Settings, client: WebClient | None) -> list[Check]:
    users, group = _ids(settings.slack_approvers), settings.slack_approver_group or None
    if not users and not group:
        return [Check(SYSTEM, False, "no approvers: nobody can approve held deals or credits",
                      "set SLACK_APPROVERS to Slack member IDs (profile → ⋮ → Copy member ID) "
                      "or SLACK_APPROVER_GROUP to a user group ID")]
    checks = _one(client, users, group, "SLACK_APPROVERS", "SLACK_APPROVER_GROUP")
    credit_users = _ids(settings.slack_credit_approvers)
    credit_group = settings.slack_credit_approver_group or None
    if credit_users or credit_group:
        checks += [c if not c.ok else Check(SYSTEM, True, "credit " + c.what)
                   for c in _one(client, credit_users, credit_group, "SLACK_CREDIT_APPROVERS",
                                 "SLACK_CREDIT_APPROVER_GROUP")]
    return checks
