"""The picture of the layers in docs/architecture.md is the one the code draws today."""

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def layers_script():
    spec = importlib.util.spec_from_file_location("layers", ROOT / "scripts" / "layers.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_layers_picture_in_the_architecture_notes_matches_the_code():
    layers = layers_script()
    drawn = layers.picture()
    assert drawn in layers.DOC.read_text(), (
        "docs/architecture.md shows other layers or imports than the code has: "
        "run .venv/bin/python scripts/layers.py --write"
    )


def test_the_picture_puts_every_package_of_the_contract_in_its_layer():
    layers = layers_script()
    drawn = layers.picture()
    for name in (
        "stubcollector",
        "demo",
        "ratings",
        "disputes",
        "connect",
        "payments",
        "marketplace",
        "accounts",
        "core",
    ):
        assert f"        {name}\n" in drawn
    assert "    payments --> marketplace" in drawn
    assert "    marketplace --> payments" not in drawn
