"""Many ready bundles in a repository's metadata store at once, for tests and benchmarks of listing.

Saving 10,000 real bundles would take minutes; :func:`register_ready_rows`
inserts the rows a save leaves (ready, each with a real bundle config) in one
transaction, one a second over the last day, the newest last.
"""
from __future__ import annotations

import json
import pathlib
from datetime import datetime, timedelta, timezone

from bentoml.repository.local_repository import LocalRepository
from bentoml.repository.metadata import READY, bundles_table

#: The bundle config of every row (its name and version replaced).
CONFIG = {"schema_version": 1, "kind": "BentoService", "name": "Load", "version": "v",
          "apis": [{"name": "predict", "input_type": "JsonInput"}],
          "artifacts": [{"name": "clf", "artifact_type": "PickleArtifact"}]}


def register_ready_rows(repo: LocalRepository, home: pathlib.Path, count: int = 10_000, names: int = 50) -> None:
    """``count`` ready rows in ``repo``'s metadata: ``Load0`` .. ``Load{names-1}``, versions
    ``v00000`` .. in order (row ``i`` is ``Load{i % names}:v{i:05d}``); analyzed on PostgreSQL."""
    start = datetime.now(timezone.utc) - timedelta(days=1)
    rows = [{"name": f"Load{i % names}", "version": f"v{i:05d}", "status": READY,
             "uri": str(home / "repository" / f"Load{i % names}" / f"v{i:05d}"), "uri_type": "LOCAL",
             "created_at": start + timedelta(seconds=i), "owner": "test:0",
             "bundle_config": json.dumps(dict(CONFIG, name=f"Load{i % names}", version=f"v{i:05d}"))}
            for i in range(count)]
    with repo.metadata.engine.begin() as conn:
        conn.execute(bundles_table.insert(), rows)
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("ANALYZE bentoml_bundles")
