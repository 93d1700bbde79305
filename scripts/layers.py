"""The picture of the app layers in docs/architecture.md, drawn from the code.

Reads the layers contract in .importlinter (the order `make lint` enforces) and the imports
between our packages as grimp finds them (tests included), and writes a Mermaid graph between
the markers in docs/architecture.md: one box per layer, top to bottom, and an arrow for every
pair of packages where one imports the other. stubcollector/tests/test_layers_picture.py fails
when the picture in the docs is not the one the code draws, so it cannot drift.

    .venv/bin/python scripts/layers.py          # print the picture
    .venv/bin/python scripts/layers.py --write  # put it in docs/architecture.md
"""

import configparser
import sys
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parent.parent
CONTRACT = ROOT / ".importlinter"
DOC = ROOT / "docs" / "architecture.md"
BEGIN = "<!-- layers: drawn by scripts/layers.py from the code; do not edit by hand -->"
END = "<!-- /layers -->"


def contract_layers() -> list[list[str]]:
    """The layers of the contract, top first; siblings (`a | b`) share a layer."""
    config = configparser.ConfigParser()
    config.read(CONTRACT)
    for section in config.sections():
        if config[section].get("type") == "layers":
            lines = [line.strip() for line in config[section]["layers"].splitlines() if line.strip()]
            return [[name.strip() for name in line.split("|")] for line in lines]
    raise SystemExit(f"No layers contract in {CONTRACT}")


def package_imports(packages: list[str]) -> set[tuple[str, str]]:
    """(importer, imported) pairs between distinct top-level packages."""
    sys.path.insert(0, str(ROOT))
    graph = grimp.build_graph(*packages, include_external_packages=False)
    pairs = set()
    for importer in packages:
        for imported in packages:
            if importer != imported and graph.direct_import_exists(
                importer=importer, imported=imported, as_packages=True
            ):
                pairs.add((importer, imported))
    return pairs


def picture() -> str:
    layers = contract_layers()
    packages = [name for layer in layers for name in layer]
    pairs = package_imports(packages)
    lines = [BEGIN, "```mermaid", "flowchart TD"]
    for depth, layer in enumerate(layers):
        lines.append(f'    subgraph L{depth}[" "]')
        lines.append("        direction LR")
        lines.extend(f"        {name}" for name in layer)
        lines.append("    end")
    lines.extend(f"    {importer} --> {imported}" for importer, imported in sorted(pairs))
    lines += ["```", END]
    return "\n".join(lines)


def doc_with(text: str, drawn: str) -> str:
    start, end = text.index(BEGIN), text.index(END) + len(END)
    return text[:start] + drawn + text[end:]


def main() -> None:
    drawn = picture()
    if "--write" in sys.argv[1:]:
        DOC.write_text(doc_with(DOC.read_text(), drawn))
    else:
        print(drawn)


if __name__ == "__main__":
    main()
