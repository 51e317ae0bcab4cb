"""The Salesforce fields closebot reads and writes are deployable metadata under `salesforce/`,
and everything that describes them agrees with it: the code, the README's table, the labels
in messages, the integration permission set and the emulator's org."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from app.salesforce_metadata import (
    NS,
    SALESFORCE,
    load_fields,
    permission_set,
    readme_section,
    readme_table,
)
from app.settings import DEFAULT_REQUIRED_FIELDS, Settings
from sandbox.salesforce.schema import Schema
from sync.connectors.salesforce import DEAL_FIELDS, LINE_FIELDS
from sync.contracts.fields import LABELS
from sync.contracts.terms import parse_billing_type, parse_cadence, parse_payment_terms
from sync.engine.writeback import SYNC_STATUS
from sync.model import Cadence

ROOT = Path(__file__).resolve().parents[2]
FIELDS = {(f.sobject, f.name): f for f in load_fields()}
CUSTOM = re.compile(r"\b[A-Za-z][A-Za-z0-9_]*__c\b")


def _code_names(*paths: str) -> set[str]:
    names: set[str] = set()
    for top in paths:
        for path in (ROOT / top).rglob("*.py"):
            names |= set(CUSTOM.findall(path.read_text()))
    return names


def test_the_readme_table_is_generated_from_the_metadata() -> None:
    readme = (ROOT / "README.md").read_text()
    assert readme_section(readme) == readme_table(load_fields()), (
        "README's Salesforce fields table is stale: run `python -m app.salesforce_metadata`")


def test_a_stale_readme_table_is_noticed() -> None:
    fields = load_fields()
    changed = [f if f.name != "Sync_Status__c" else f.__class__(
        **{**f.__dict__, "values": (*f.values, "Archived")}) for f in fields]
    assert readme_table(changed) != readme_table(fields)


def test_every_field_the_code_names_has_metadata() -> None:
    in_metadata = {name for _, name in FIELDS}
    assert _code_names("app", "handlers", "sync") - in_metadata == set()


def test_reads_and_writes_are_on_the_right_objects() -> None:
    for name in DEAL_FIELDS:
        if name.endswith("__c"):
            sobject, _, field = name.rpartition(".")
            assert (sobject or "Opportunity", field) in FIELDS, name
    for name in LINE_FIELDS:
        if name.endswith("__c"):
            sobject, _, field = name.rpartition(".")
            assert (sobject or "OpportunityLineItem", field) in FIELDS, name
    written = {("Opportunity", name)
               for name in CUSTOM.findall((ROOT / "sync/engine/writeback.py").read_text())}
    written |= {("Account", "Stripe_Customer_Id__c"), ("Account", "ERP_Customer_Id__c")}
    assert {key for key, spec in FIELDS.items() if spec.written} == written
    for name in DEFAULT_REQUIRED_FIELDS:
        assert name == "CurrencyIsoCode" or ("Opportunity", name) in FIELDS


def test_picklists_hold_every_value_closebot_writes_and_reads() -> None:
    def values(sobject: str, name: str) -> set[str]:
        return set(FIELDS[(sobject, name)].values)

    assert set(SYNC_STATUS.values()) | {"Pending"} <= values("Opportunity", "Sync_Status__c")
    assert {s.capitalize() for s in ("draft", "open", "paid", "void", "uncollectible")} <= (
        values("Opportunity", "Invoice_Status__c"))
    assert {"Pending", "Approved", "Rejected"} <= values("Opportunity", "Approval_Status__c")
    assert {parse_cadence(v) for v in values("Opportunity", "Billing_Cadence__c")} == set(Cadence)
    assert all(parse_payment_terms(v) is not None
               for v in values("Opportunity", "Payment_Terms__c"))
    assert {parse_billing_type(v) for v in values("OpportunityLineItem", "Billing_Type__c")} == {
        True, False}


def test_labels_in_messages_are_the_metadata_labels() -> None:
    for (_, name), spec in FIELDS.items():
        assert LABELS[name] == spec.label, name


@pytest.mark.parametrize("path", sorted(SALESFORCE.rglob("*.field-meta.xml")), ids=lambda p: p.stem)
def test_each_field_file_is_well_formed_custom_field_metadata(path: Path) -> None:
    root = ET.parse(path).getroot()
    assert root.tag == f"{{{NS}}}CustomField"

    def text(tag: str) -> str | None:
        found = root.find(f"{{{NS}}}{tag}")
        return found.text if found is not None else None

    name = path.name.removesuffix(".field-meta.xml")
    assert text("fullName") == name and path.parent.name == "fields"
    assert len(text("label") or "") <= 40 and len(text("inlineHelpText") or "") <= 510
    assert 0 < len(text("description") or "") <= 1000
    kind = text("type")
    needs = {"Text": ("length",), "LongTextArea": ("length", "visibleLines"),
             "Currency": ("precision", "scale"), "Checkbox": ("defaultValue",),
             "Picklist": ("valueSet",), "Date": (), "DateTime": (), "Email": ()}
    assert kind in needs, kind
    for tag in needs[kind]:
        assert root.find(f"{{{NS}}}{tag}") is not None, (name, tag)


def test_the_permission_set_lets_closebot_read_every_field() -> None:
    grants = permission_set()
    assert set(grants) == {f"{s}.{n}" for s, n in FIELDS}
    assert all(readable for readable, _ in grants.values())


def test_sfdx_project_and_api_version() -> None:
    project = json.loads((SALESFORCE / "sfdx-project.json").read_text())
    (package,) = project["packageDirectories"]
    assert (SALESFORCE / package["path"] / "main" / "default" / "objects").is_dir()
    assert project["sourceApiVersion"] == Settings.model_fields[
        "salesforce_api_version"].default


def test_the_emulated_org_has_the_same_fields() -> None:
    kinds = {"Text": "string", "LongTextArea": "textarea", "Picklist": "picklist",
             "Checkbox": "boolean", "Date": "date", "DateTime": "datetime",
             "Currency": "currency", "Email": "email"}
    schema = Schema()
    for (sobject, name), spec in FIELDS.items():
        emulated = schema.require(sobject).field(name)
        assert emulated is not None, f"{sobject}.{name}"
        assert emulated.type == kinds[spec.type], f"{sobject}.{name}"
        if spec.length and spec.type == "Text":
            assert emulated.length == spec.length, f"{sobject}.{name}"


def test_the_readme_states_the_multi_currency_requirement() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "multi-currency" in readme.lower() and "CurrencyIsoCode" in readme
