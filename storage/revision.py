"""Developer helper: `python -m storage.revision "message" 0002` autogenerates a migration."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from alembic import command

from storage.db import make_engine
from storage.migrate import alembic_config, upgrade


def main() -> None:
    message, rev_id = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'revision.db'}")
        upgrade(engine)
        command.revision(alembic_config(engine), message=message, autogenerate=True,
                         rev_id=rev_id)
        engine.dispose()


if __name__ == "__main__":
    main()
