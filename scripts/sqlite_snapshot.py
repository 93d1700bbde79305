"""A fresh SQLite database in seconds instead of minutes: load a dump of a migrated one.

    python scripts/sqlite_snapshot.py load PATH   # PATH missing or empty: fill it from the dump
    python scripts/sqlite_snapshot.py save        # refresh the dump (runs every migration once)

`make run` on a new machine used to spend 95-110 s in `migrate`, nearly all of it Django
re-rendering dj-stripe's models for each of its ~500 RemoveField/AlterField operations
(a profile: 89% in migrations.state.render, not in SQL). The dump (scripts/sqlite_snapshot.sql.gz)
is what those migrations leave behind: the schema, the django_migrations rows, content types,
permissions and the staff groups. scripts/run.sh loads it into a database that does not exist
yet and then runs `migrate` as always, which applies only the migrations added since the dump
was saved (and the post-migrate hooks), so a stale dump is slower, never wrong. A dump that
fails to load leaves no file behind, and run.sh migrates from scratch as before.

Refresh it when many migrations have piled up (`make sqlite-snapshot`).
"""

import gzip
import os
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DUMP = ROOT / "scripts" / "sqlite_snapshot.sql.gz"


def load(target: Path) -> int:
    if target.exists() and target.stat().st_size:
        return 0  # an existing database is migrated as always
    if not DUMP.exists():
        return 0
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".loading")
    partial.unlink(missing_ok=True)
    try:
        with sqlite3.connect(partial) as db:
            db.executescript(gzip.decompress(DUMP.read_bytes()).decode())
        db.close()
        partial.replace(target)
    except (sqlite3.Error, OSError, EOFError, UnicodeDecodeError) as error:
        partial.unlink(missing_ok=True)
        print(f"schema snapshot not loaded ({error}); migrating from scratch", file=sys.stderr)
        return 0
    print(f"fresh database {target} from {DUMP.relative_to(ROOT)}; migrate adds what is newer",
          file=sys.stderr)
    return 0


def save() -> int:
    with tempfile.TemporaryDirectory() as folder:
        database = Path(folder) / "db.sqlite3"
        env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}"}
        env.pop("DJANGO_SETTINGS_MODULE", None)
        subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env,
                       check=True)
        with sqlite3.connect(database) as db:
            text = "\n".join(db.iterdump()) + "\n"
        db.close()
    DUMP.write_bytes(gzip.compress(text.encode(), mtime=0))
    print(f"wrote {DUMP.relative_to(ROOT)} ({DUMP.stat().st_size:,} bytes)")
    return 0


def main() -> int:
    if len(sys.argv) == 3 and sys.argv[1] == "load":
        return load(Path(sys.argv[2]))
    if len(sys.argv) == 2 and sys.argv[1] == "save":
        return save()
    print(__doc__.split("\n\n")[1], file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
