"""The Salesforce custom fields closebot needs, read from the deployable metadata in
`salesforce/` (SFDX source format), and the README's table of them.

The metadata is the one description of those fields: an admin deploys it, the README's table is
generated from it (`python -m app.salesforce_metadata` rewrites the table), and the tests check
the code, the message labels and the emulated org against it.
"""

from __future__ import annotations

import re
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

SALESFORCE = Path(__file__).resolve().parents[1] / "salesforce"
SOURCE = SALESFORCE / "force-app" / "main" / "default"
PERMISSION_SET = SOURCE / "permissionsets" / "Closebot_Integration.permissionset-meta.xml"
NS = "http://soap.sforce.com/2006/04/metadata"
README = Path(__file__).resolve().parents[1] / "README.md"
BEGIN = ("<!-- salesforce-fields: generated from salesforce/ by "
         "python -m app.salesforce_metadata -->")
END = "<!-- /salesforce-fields -->"
TYPE_NAMES = {"LongTextArea": "Long Text Area", "DateTime": "Date/Time"}


@dataclass(frozen=True)
class FieldSpec:
    sobject: str
    name: str
    label: str
    type: str  # the Metadata API's: Text, Picklist, Date, Checkbox, Currency, ...
    length: int | None
    precision: int | None
    scale: int | None
    values: tuple[str, ...]
    restricted: bool
    default: str | None
    help: str
    description: str
    written: bool  # the integration permission set lets closebot edit it


def _text(node: ET.Element, tag: str) -> str | None:
    found = node.find(f"{{{NS}}}{tag}")
    return found.text if found is not None else None


def _int(node: ET.Element, tag: str) -> int | None:
    value = _text(node, tag)
    return int(value) if value is not None else None


def permission_set(path: Path = PERMISSION_SET) -> dict[str, tuple[bool, bool]]:
    """`Object.Field` → (readable, editable), as the integration permission set grants."""
    root = ET.parse(path).getroot()
    return {
        _text(p, "field") or "": (_text(p, "readable") == "true", _text(p, "editable") == "true")
        for p in root.findall(f"{{{NS}}}fieldPermissions")
    }


def load_fields(source: Path = SOURCE) -> list[FieldSpec]:
    grants = permission_set(source / "permissionsets" / PERMISSION_SET.name)
    fields = []
    for path in sorted(source.glob("objects/*/fields/*.field-meta.xml")):
        root = ET.parse(path).getroot()
        sobject = path.parents[1].name
        name = _text(root, "fullName") or ""
        value_set = root.find(f"{{{NS}}}valueSet")
        values: tuple[str, ...] = ()
        if value_set is not None:
            values = tuple(_text(v, "fullName") or "" for v in value_set.iter(f"{{{NS}}}value"))
        fields.append(FieldSpec(
            sobject=sobject, name=name, label=_text(root, "label") or name,
            type=_text(root, "type") or "", length=_int(root, "length"),
            precision=_int(root, "precision"), scale=_int(root, "scale"), values=values,
            restricted=value_set is not None and _text(value_set, "restricted") == "true",
            default=_text(root, "defaultValue"), help=_text(root, "inlineHelpText") or "",
            description=_text(root, "description") or "",
            written=grants.get(f"{sobject}.{name}", (False, False))[1],
        ))
    order = {"Opportunity": 0, "OpportunityLineItem": 1, "Product2": 2, "Account": 3}
    return sorted(fields, key=lambda f: (order.get(f.sobject, 9), f.written, f.name))


def _type(spec: FieldSpec) -> str:
    kind = TYPE_NAMES.get(spec.type, spec.type)
    if spec.type == "Currency":
        return f"{kind}({spec.precision}, {spec.scale})"
    if spec.length and spec.type in ("Text", "LongTextArea"):
        return f"{kind}({spec.length})"
    if spec.type == "Picklist":
        return f"{kind} ({'restricted' if spec.restricted else 'other values allowed'})"
    if spec.type == "Checkbox":
        return f"{kind} ({'ticked' if spec.default == 'true' else 'unticked'} by default)"
    return kind


def readme_table(fields: list[FieldSpec]) -> str:
    rows = ["| object | field | label | type | values | closebot | help text |",
            "|---|---|---|---|---|---|---|"]
    for f in fields:
        values = ", ".join(f.values) or "—"
        rows.append(f"| {f.sobject} | `{f.name}` | {f.label} | {_type(f)} | {values} | "
                    f"{'writes' if f.written else 'reads'} | {f.help.replace('|', '/')} |")
    return "\n".join(rows)


def readme_section(readme: str) -> str | None:
    match = re.search(re.escape(BEGIN) + r"\n(.*?)\n?" + re.escape(END), readme, re.DOTALL)
    return match.group(1) if match else None


def write_readme(path: Path = README) -> bool:
    """Regenerate the table in place; True when it changed."""
    readme = path.read_text()
    if readme_section(readme) is None:
        raise SystemExit(f"{path}: no {BEGIN} … {END} markers")
    table = readme_table(load_fields())
    updated = re.sub(re.escape(BEGIN) + r"\n.*?\n?" + re.escape(END),
                     lambda _: f"{BEGIN}\n{table}\n{END}", readme, flags=re.DOTALL)
    path.write_text(updated)
    return updated != readme


if __name__ == "__main__":
    changed = write_readme()
    print("README.md: Salesforce fields table " + ("updated" if changed else "already current"))
    sys.exit(0)
