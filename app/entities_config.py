"""The legal entities, read from ENTITIES or ENTITIES_FILE (docs/entities.md)."""

from __future__ import annotations

import os
from pathlib import Path

from app.settings import Settings
from sync.contracts.entities import Entities, EntityConfigError, parse


def load_entities(settings: Settings) -> Entities:
    """The configured entities; raises `EntityConfigError` naming the setting to fix."""
    if settings.entities.strip() and settings.entities_file:
        raise EntityConfigError("ENTITIES and ENTITIES_FILE are both set; keep one")
    if settings.entities_file:
        try:
            text = Path(settings.entities_file).read_text(encoding="utf-8")
        except OSError as exc:
            raise EntityConfigError(
                f"ENTITIES_FILE {settings.entities_file} can't be read ({exc.strerror})") from exc
        where = "ENTITIES_FILE"
    else:
        text, where = settings.entities, "ENTITIES"
    try:
        return parse(text)
    except EntityConfigError as exc:
        raise EntityConfigError(f"{where}: {exc}") from exc


def entities_line(settings: Settings) -> tuple[str, bool]:
    """What `closebot config check` says about the entities."""
    try:
        entities = load_entities(settings)
    except EntityConfigError as exc:
        return f"entities    : INVALID: {exc}", False
    if not entities:
        return "entities    : one company (ENTITIES unset)", True
    missing = [f"{e.name} needs {e.stripe_api_key_env}" for e in entities.entities
               if e.stripe_api_key_env and not _env_set(e.stripe_api_key_env)]
    missing += [f"{e.name} needs {e.stripe_webhook_secret_env}" for e in entities.entities
                if e.stripe_webhook_secret_env and not _env_set(e.stripe_webhook_secret_env)]
    if settings.erp == "netsuite":
        missing += [f"{e.name} has no netsuite_subsidiary" for e in entities.entities
                    if not e.netsuite_subsidiary]
    if settings.erp == "intacct":
        missing += [f"{e.name} has no intacct_entity" for e in entities.entities
                    if not e.intacct_entity]
    described = ", ".join(f"{e.name} ({e.functional_currency})" for e in entities.entities)
    if missing:
        return f"entities    : {described} MISSING: {'; '.join(missing)}", False
    return f"entities    : {described}", True


def _env_set(name: str) -> bool:
    return bool(os.environ.get(name, "").strip())
