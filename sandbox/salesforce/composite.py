"""sObject Collections (`composite/sobjects`): create or update up to 200 records in one call.

Deserialisation problems (unknown object or field, a value of the wrong type, more than 200
records) fail the whole request, as on Salesforce. Save-time problems are reported per record,
in request order. With `allOrNone: true` one failure rolls back every record; the failed ones
keep their own errors and the rest report ALL_OR_NONE_OPERATION_ROLLED_BACK.
"""

from __future__ import annotations

from typing import Any

from sandbox.salesforce.errors import SalesforceError
from sandbox.salesforce.ids import normalize
from sandbox.salesforce.schema import SObjectDef
from sandbox.salesforce.store import Store, Values

MAX_RECORDS = 200
ROLLED_BACK = {
    "statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK",
    "message": "Record rolled back because not all records were valid and the request was using "
    "AllOrNone header",
    "fields": [],
}


def _parse(store: Store, body: Any, *, updating: bool) -> tuple[bool, list[Any]]:
    if not isinstance(body, dict) or not isinstance(body.get("records"), list):
        raise SalesforceError("JSON_PARSER_ERROR", "Expected a records array in the request body")
    all_or_none = body.get("allOrNone", False)
    if not isinstance(all_or_none, bool):
        raise SalesforceError("JSON_PARSER_ERROR", f"Cannot deserialize allOrNone: {all_or_none}")
    records = body["records"]
    if len(records) > MAX_RECORDS:
        raise SalesforceError(
            "EXCEEDED_ID_LIMIT",
            f"record limit reached. cannot submit more than {MAX_RECORDS} records into this call",
        )
    parsed: list[tuple[SObjectDef, str | None, Values]] = []
    for raw in records:
        attrs = raw.get("attributes") if isinstance(raw, dict) else None
        if not isinstance(attrs, dict) or not isinstance(attrs.get("type"), str):
            raise SalesforceError(
                "INVALID_TYPE", "Must send a concrete entity type (attributes.type)."
            )
        obj = store.schema.require(attrs["type"])
        fields = dict(raw)
        record_id = None
        if updating:
            key = next((k for k in fields if k.lower() == "id"), None)
            record_id = fields.pop(key) if key else None
        parsed.append((obj, record_id, store.prepare(obj, fields)))
    return all_or_none, parsed


def save(store: Store, body: Any, *, updating: bool) -> list[dict[str, Any]]:
    all_or_none, parsed = _parse(store, body, updating=updating)
    results: list[dict[str, Any]] = []
    with store.transaction() as verdict:
        for obj, record_id, values in parsed:
            try:
                with store.transaction():
                    if updating:
                        done_id = _update_one(store, obj, record_id, values)
                    else:
                        done_id = store.insert(obj, values)
                results.append({"id": done_id, "success": True, "errors": []})
            except SalesforceError as exc:
                results.append(
                    {"id": record_id, "success": False, "errors": [exc.collection_error()]}
                )
        if all_or_none and any(not r["success"] for r in results):
            verdict.append(False)
            for r in results:
                if r["success"]:
                    r.update(id=None if not updating else r["id"], success=False,
                             errors=[dict(ROLLED_BACK)])
    return results


def _update_one(store: Store, obj: SObjectDef, raw_id: Any, values: Values) -> str:
    if raw_id is None:
        raise SalesforceError("MISSING_ARGUMENT", "Id not specified in an update call", fields=[])
    record_id = normalize(raw_id) if isinstance(raw_id, str) else None
    if record_id is None:
        raise SalesforceError("MALFORMED_ID", f"malformed id {raw_id}", fields=[])
    if record_id[:3] != obj.key_prefix or store.find(obj.name, record_id) is None:
        raise SalesforceError(
            "INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", fields=[]
        )
    store.update(obj, record_id, values)
    return record_id
