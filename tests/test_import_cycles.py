"""No module of course imports, directly or through others, a module that imports it back.

The `acyclic` contract in pyproject.toml (run by `lint-imports`) checks the modules within
each package; this also covers a module and the package holding it, such as a command
module importing `create_app` from course while create_app registers its commands.
Imports inside functions and under TYPE_CHECKING count: deferring an import hides a cycle
from Python, not from the next reader.
"""

from __future__ import annotations

import grimp


def test_no_module_imports_itself_back():
    graph = grimp.build_graph("course", cache_dir=None)
    cycles = set()
    for importer in graph.modules:
        for imported in graph.find_modules_directly_imported_by(importer):
            back = graph.find_shortest_chain(importer=imported, imported=importer)
            if back:
                cycles.add(" -> ".join((importer, *back)))
    assert sorted(cycles) == []
