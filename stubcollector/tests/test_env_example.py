import re
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[2]
NOT_SETTINGS = {"PYTEST_XDIST_WORKER"}  # set by pytest-xdist, not by people


def variables_read_by_settings() -> set[str]:
    source = (BASE_DIR / "stubcollector" / "settings.py").read_text()
    return set(re.findall(r'env(?:\.\w+)?\(\s*"([A-Z][A-Z0-9_]*)"', source)) - NOT_SETTINGS


def variables_in_env_example() -> set[str]:
    text = (BASE_DIR / ".env.example").read_text()
    return set(re.findall(r"^#?([A-Z][A-Z0-9_]+)=", text, flags=re.MULTILINE))


def test_env_example_lists_every_variable_settings_reads():
    missing = variables_read_by_settings() - variables_in_env_example()

    assert not missing, f".env.example does not mention {sorted(missing)}"


def test_env_example_mentions_no_variable_settings_ignores():
    assert variables_in_env_example() - variables_read_by_settings() == set()


def test_copying_env_example_unchanged_changes_nothing():
    """Every assignment is commented out, so `cp .env.example .env` is safe."""
    lines = (BASE_DIR / ".env.example").read_text().splitlines()

    assert not [line for line in lines if re.match(r"^[A-Z_]+=", line)]
