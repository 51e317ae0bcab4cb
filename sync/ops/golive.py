"""Go-live matching rules: which CRM account a billing or ERP customer is, and which deal a
subscription belongs to. Pure functions over what was read; `golive_import.py` reads and links.

Rules, in order, each tried only when the one before found nothing:
1. metadata: the record names the CRM record (`sf_account_id` / `sf_opportunity_id` in Stripe,
   the CRM account id as an ERP customer's external ID, closebot's own convention);
2. email domain: the customer's email domain is the account's billing email domain (never a
   free-mail domain: thousands of companies share gmail.com);
3. exact name: the same name, ignoring case and spacing;
4. fuzzy name: difflib's similarity of the names without legal suffixes, at least `FUZZY_MIN`,
   and clearly ahead of the next best (`FUZZY_MARGIN`); the score is reported.
A rule that finds two or more is a stop: the record is ambiguous and a person decides.
"""

from __future__ import annotations

import difflib
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TypeAlias

FUZZY_MIN = 0.85
FUZZY_MARGIN = 0.05
FREE_MAIL = frozenset({"gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "live.com",
                       "yahoo.com", "icloud.com", "me.com", "aol.com", "proton.me",
                       "protonmail.com", "gmx.de", "gmx.net", "web.de"})
SUFFIXES = frozenset({"inc", "incorporated", "corp", "corporation", "co", "company", "ltd",
                      "limited", "llc", "plc", "gmbh", "ag", "sa", "sas", "bv", "nv", "pty"})


# How alike two names are, 0 to 1 (difflib's ratio): a similarity, never money.
Score: TypeAlias = float

@dataclass(frozen=True)
class Target:
    """A CRM record something can be linked to: an account, or a deal of an account."""

    id: str
    name: str
    email: str | None = None
    account_id: str | None = None  # a deal's account


@dataclass(frozen=True)
class Found:
    target: Target
    rule: str  # metadata | email domain | exact name | fuzzy name | only deal of the account
    score: Score = 1.0


@dataclass(frozen=True)
class Verdict:
    """What the rules say about one record: one match, several (ambiguous) or none."""

    found: tuple[Found, ...] = ()
    reason: str = ""

    @property
    def match(self) -> Found | None:
        return self.found[0] if len(self.found) == 1 else None


def plain_name(name: str | None) -> str:
    return " ".join((name or "").casefold().split())


def core_name(name: str | None) -> str:
    words = re.sub(r"[^\w\s]", " ", plain_name(name)).split()
    while len(words) > 1 and words[-1] in SUFFIXES:
        words.pop()
    return " ".join(words)


def domain(email: str | None) -> str | None:
    if not email or "@" not in email:
        return None
    found = email.rsplit("@", 1)[1].strip().casefold()
    return None if not found or found in FREE_MAIL else found


@dataclass
class Index:
    """Targets by id, by name and by email domain, for the rules above."""

    targets: dict[str, Target] = field(default_factory=dict)
    by_name: dict[str, list[Target]] = field(default_factory=lambda: defaultdict(list))
    by_domain: dict[str, list[Target]] = field(default_factory=lambda: defaultdict(list))

    @classmethod
    def of(cls, targets: Iterable[Target]) -> Index:
        index = cls()
        for t in targets:
            index.targets[t.id] = t
            index.by_name[plain_name(t.name)].append(t)
            if (d := domain(t.email)) is not None:
                index.by_domain[d].append(t)
        return index


def match(index: Index, *, named: str | None, name: str | None,
          email: str | None) -> Verdict:
    """The rules in order for one record: `named` is the CRM id its metadata gives."""
    if named and named in index.targets:
        return Verdict((Found(index.targets[named], "metadata"),))
    steps: Sequence[tuple[str, list[Target]]] = (
        ("email domain", index.by_domain.get(domain(email) or "", [])),
        ("exact name", index.by_name.get(plain_name(name), []) if plain_name(name) else []),
    )
    for rule, hits in steps:
        if hits:
            return _verdict([Found(t, rule) for t in hits], rule, "accounts")
    return fuzzy(index.targets.values(), name)


def fuzzy(targets: Iterable[Target], name: str | None, noun: str = "accounts") -> Verdict:
    wanted = core_name(name)
    if not wanted:
        return Verdict(reason="it has no name or email to match on")
    scored = sorted(((round(difflib.SequenceMatcher(None, wanted, core_name(t.name)).ratio(), 3),
                      t) for t in targets), key=lambda pair: (-pair[0], pair[1].id))
    close = [(score, t) for score, t in scored if score >= FUZZY_MIN]
    if not close:
        best = f" (closest: {scored[0][1].name}, score {scored[0][0]:.2f})" if scored else ""
        what = "no account's name or email domain" if noun == "accounts" else "no deal's name"
        return Verdict(reason=f"{what} matches{best}")
    top = close[0][0]
    rivals = [(s, t) for s, t in close if top - s < FUZZY_MARGIN]
    return _verdict([Found(t, "fuzzy name", s) for s, t in rivals], "fuzzy name", noun)


def _verdict(found: list[Found], rule: str, noun: str) -> Verdict:
    if len(found) == 1:
        return Verdict(tuple(found))
    return Verdict(tuple(found), f"the {rule} matches {len(found)} {noun}")


def deal_of(deals: Sequence[Target], *, named: str | None, account_id: str | None,
            description: str | None) -> Verdict:
    """Which closed-won deal a subscription is: by metadata, else among its account's deals the
    only one, else the one its description names (exactly, then fuzzily)."""
    by_id = {d.id: d for d in deals}
    if named and named in by_id:
        return Verdict((Found(by_id[named], "metadata"),))
    if account_id is None:
        return Verdict(reason="its customer is not linked to an account")
    own = [d for d in deals if d.account_id == account_id]
    if len(own) == 1:
        return Verdict((Found(own[0], "only deal of the account"),))
    if not own:
        return Verdict(reason="its account has no closed-won deal")
    exact = [d for d in own if description and plain_name(d.name) == plain_name(description)]
    if exact:
        return _verdict([Found(d, "exact name") for d in exact], "exact name", "deals")
    if description:
        verdict = fuzzy(own, description, "deals")
        if verdict.found:
            return verdict
    return Verdict(tuple(Found(d, "account's deals") for d in own),
                   f"its account has {len(own)} closed-won deals")

