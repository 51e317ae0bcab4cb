"""The go-live matching rules on their own: order, free-mail domains, fuzzy scores and margins,
and the deals of an account."""

from __future__ import annotations

from sync.ops.golive import Index, Target, core_name, deal_of, match

ACCOUNTS = Index.of([
    Target("001A", "Acme Corp", "ap@acme.example"),
    Target("001B", "Initech", "billing@gmail.com"),
    Target("001C", "Globex"),
    Target("001D", "Globex"),
    Target("001E", "Wayne Enterprises GmbH"),
    Target("001F", "Wayne Industries"),
])


def test_rules_apply_in_order_and_metadata_wins() -> None:
    # Metadata beats a name that points elsewhere.
    found = match(ACCOUNTS, named="001A", name="Initech", email=None).match
    assert found is not None and (found.target.id, found.rule) == ("001A", "metadata")
    # An unknown metadata id falls through to the other rules.
    found = match(ACCOUNTS, named="001ZZZ", name="acme   CORP", email=None).match
    assert found is not None and found.rule == "exact name"
    found = match(ACCOUNTS, named=None, name="Someone Else", email="x@ACME.example").match
    assert found is not None and (found.target.id, found.rule) == ("001A", "email domain")


def test_free_mail_domains_never_match() -> None:
    verdict = match(ACCOUNTS, named=None, name="Zeta", email="someone@gmail.com")
    assert verdict.match is None and not verdict.found
    assert "no account's name or email domain matches" in verdict.reason


def test_fuzzy_reports_a_score_and_refuses_a_close_second() -> None:
    found = match(ACCOUNTS, named=None, name="Wayne Enterprise Inc.", email=None).match
    assert found is not None and found.rule == "fuzzy name" and 0.85 <= found.score < 1
    assert core_name("Wayne Enterprises GmbH") == "wayne enterprises"
    two = Index.of([Target("1", "Northwind Traders"), Target("2", "Northwind Trader")])
    verdict = match(two, named=None, name="Northwind Tradrs", email=None)
    assert verdict.match is None and len(verdict.found) == 2


def test_two_accounts_with_one_name_are_ambiguous() -> None:
    verdict = match(ACCOUNTS, named=None, name="Globex", email=None)
    assert verdict.match is None
    assert {f.target.id for f in verdict.found} == {"001C", "001D"}
    assert verdict.reason == "the exact name matches 2 accounts"


def test_a_subscription_finds_its_deal() -> None:
    deals = [Target("006A", "Acme 2026", account_id="001A"),
             Target("006B", "Globex Renewal", account_id="001C"),
             Target("006C", "Globex Expansion", account_id="001C")]
    only = deal_of(deals, named=None, account_id="001A", description=None).match
    assert only is not None and only.rule == "only deal of the account"
    named = deal_of(deals, named=None, account_id="001C", description="globex renewal").match
    assert named is not None and named.target.id == "006B"
    several = deal_of(deals, named=None, account_id="001C", description=None)
    assert several.match is None and len(several.found) == 2
    assert deal_of(deals, named=None, account_id=None, description=None).reason == \
        "its customer is not linked to an account"

