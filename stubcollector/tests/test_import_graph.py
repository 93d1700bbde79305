"""No import cycle among the modules of our packages, tests included (the layers contract in
.importlinter only orders the packages; a cycle inside one app ties its modules together the
same way). grimp reads every import, those inside functions too, so a cycle cannot hide in a
function body: break it the way the code does elsewhere (a task queued by name, a registry or
signal filled in from AppConfig.ready(), a module that moves down)."""

import configparser
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[2]


def our_packages() -> list[str]:
    config = configparser.ConfigParser()
    config.read(ROOT / ".importlinter")
    return config["importlinter"]["root_packages"].split()


def strongly_connected_components(graph) -> list[set[str]]:
    """Tarjan's algorithm, iterative (the graph is deeper than Python's recursion limit allows
    to count on); only the components with more than one module, or one importing itself."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components = []
    counter = 0
    for start in sorted(graph.modules):
        if start in index:
            continue
        work = [(start, iter(sorted(graph.find_modules_directly_imported_by(start))))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            module, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.find_modules_directly_imported_by(child)))))
                    break
                if child in on_stack:
                    low[module] = min(low[module], index[child])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[module])
                if low[module] == index[module]:
                    component = set()
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.add(member)
                        if member == module:
                            break
                    if len(component) > 1 or module in graph.find_modules_directly_imported_by(module):
                        components.append(component)
    return components


def one_cycle(graph, component: set[str]) -> list[str]:
    """The shortest way round through the component's first module, for the failure message."""
    first = min(component)
    best = None
    for imported in graph.find_modules_directly_imported_by(first) & component:
        if imported == first:
            chain = [first]
        else:
            chain = [first, *graph.find_shortest_chain(importer=imported, imported=first)]
        if best is None or len(chain) < len(best):
            best = chain
    return [*best, first] if best[-1] != first or len(best) == 1 else best


def describe(graph, cycle: list[str]) -> str:
    lines = []
    for importer, imported in zip(cycle, cycle[1:], strict=False):
        details = graph.get_import_details(importer=importer, imported=imported)
        where = ", ".join(f"l.{detail['line_number']}" for detail in details) or "?"
        lines.append(f"    {importer} -> {imported} ({where})")
    return "\n".join(lines)


def test_no_module_of_ours_takes_part_in_an_import_cycle():
    graph = grimp.build_graph(*our_packages(), include_external_packages=False, cache_dir=None)
    cycles = [one_cycle(graph, component) for component in strongly_connected_components(graph)]
    report = "\n\n".join(
        f"{len(cycle) - 1} modules import each other round:\n{describe(graph, cycle)}" for cycle in cycles
    )
    assert not cycles, f"Import cycles among our modules:\n\n{report}"
