"""scripts/sqlite_snapshot.py: make run's fast path for a new SQLite database."""

import importlib.util
import sqlite3
from pathlib import Path

from django.apps import apps

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("sqlite_snapshot", ROOT / "scripts" / "sqlite_snapshot.py")
sqlite_snapshot = importlib.util.module_from_spec(spec)
spec.loader.exec_module(sqlite_snapshot)


def test_the_snapshot_loads_into_a_new_file_with_the_staff_groups(tmp_path):
    target = tmp_path / "db.sqlite3"
    assert sqlite_snapshot.load(target) == 0
    db = sqlite3.connect(target)
    assert {name for (name,) in db.execute("SELECT name FROM auth_group")} >= {"Support", "Finance"}
    assert db.execute("SELECT count(*) FROM django_migrations").fetchone()[0] > 0


def test_every_migration_the_snapshot_records_is_one_of_ours(tmp_path):
    """A stale snapshot only lacks the newest migrations (migrate adds them); it must never
    claim a migration this code does not have."""
    target = tmp_path / "db.sqlite3"
    sqlite_snapshot.load(target)
    recorded = set(sqlite3.connect(target).execute("SELECT app, name FROM django_migrations"))
    # Read from the files: the test run itself has migrations switched off (--no-migrations).
    known = {(app.label, path.stem) for app in apps.get_app_configs()
             for path in Path(app.path, "migrations").glob("[0-9]*.py")}
    assert recorded and recorded <= known, recorded - known


def test_an_existing_database_is_left_alone(tmp_path):
    target = tmp_path / "db.sqlite3"
    target.write_bytes(b"not empty")
    sqlite_snapshot.load(target)
    assert target.read_bytes() == b"not empty"


def test_a_broken_snapshot_leaves_no_file_so_run_migrates_from_scratch(tmp_path, monkeypatch, capsys):
    broken = tmp_path / "broken.sql.gz"
    broken.write_bytes(b"not gzip")
    monkeypatch.setattr(sqlite_snapshot, "DUMP", broken)
    target = tmp_path / "db.sqlite3"
    assert sqlite_snapshot.load(target) == 0
    assert not target.exists()
    assert "migrating from scratch" in capsys.readouterr().err
