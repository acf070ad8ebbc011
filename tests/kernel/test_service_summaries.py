"""``MetadataStore.services``: one summary per service (latest version, count, last saved),
the latest saved first, pending rows left out, a search that matches names literally."""
from bentoml.repository.metadata import MetadataStore


def _ready(store, name, version):
    assert store.insert_pending(name, version, f"/nowhere/{name}/{version}", "LOCAL")
    store.mark_ready(name, version, f"/nowhere/{name}/{version}", {"name": name, "version": version})


def test_services_summarise_ready_rows_latest_saved_first(tmp_path):
    store = MetadataStore(f"sqlite:///{tmp_path / 'storage.db'}")
    try:
        _ready(store, "Alpha", "1")
        _ready(store, "Beta_Svc", "1")
        _ready(store, "Alpha", "2")
        assert store.insert_pending("Gamma", "1", "/nowhere/Gamma/1", "LOCAL")  # not listed: pending
        summaries = store.services()
        assert [(s.name, s.latest_version, s.versions) for s in summaries] == [("Alpha", "2", 2), ("Beta_Svc", "1", 1)]
        assert summaries[0].last_saved.tzinfo is not None
        assert [s.name for s in store.services(limit=1, offset=1)] == ["Beta_Svc"]
        assert [s.name for s in store.services("alp")] == ["Alpha"]
        assert [s.name for s in store.services("a_")] == ["Beta_Svc"]  # '_' is a character, not a wildcard
        assert store.services("%") == []
    finally:
        store.engine.dispose()
