"""The library's layers: a module imports only from lower layers or from its own package.

Lowest first; README "Layout" draws the same table. A new top-level module or package must be
placed here, so the test also fails on a module that belongs to no layer.
"""

import ast
from pathlib import Path

import pytest

LAYERS = [
    {"errors", "progress", "palette", "world"},  # leaves: exceptions, progress bars, the label palette, torchrun's ranks
    {"safe_pickle"},                            # reading pickled arrays without running code
    {"io", "config"},                           # artifact formats; typed params and the shared sections
    {"params"},                                 # each method's params sections; the whole document
    {"devices", "plots", "recipe"},             # device/rank placement; plot rendering; recipes
    {"data", "metrics", "viz"},                 # datasets; scores; colour overlays
    {"ops"},                                    # array kernels shared by models, maps and refiners
    {"models"},                                 # networks, model kinds, model files
    {"inference"},                              # device → model → dataset share → writer
    {"cams", "saliency"},                       # localisation maps; saliency maps (U^2-Net, geodesic)
    {"refine"},                                 # CRF, affinity labels, random walk, saliency labels
    {"losses"},                                 # each method's training loss (GETAM's makes online labels)
    {"train", "segment", "evaluate"},           # training runs; segmenting images; scoring label maps
    {"report"},                                 # the HTML run report
    {"cli"},                                    # the `wsss` command
]
LIBRARY = Path(__file__).resolve().parents[1] / "wsss"


def layer_of(part: str) -> int:
    for index, layer in enumerate(LAYERS):
        if part in layer:
            return index
    raise AssertionError(f"wsss.{part} belongs to no layer; add it to LAYERS in {__file__}")


def part_of(module: str) -> str:
    """``wsss.models.zoo`` → ``models``: the top-level module or package a module belongs to."""
    return module.split(".")[1]


def library_imports(path: Path) -> set[str]:
    """The ``wsss.*`` modules a file imports anywhere (function-level imports too)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.ImportFrom) and node.level:
            raise AssertionError(f"{path}: relative import; the layer test reads absolute imports only")
        if isinstance(node, ast.ImportFrom):
            # ``from wsss import io`` imports wsss.io
            names = [f"wsss.{a.name}" for a in node.names] if node.module == "wsss" else [node.module]
        else:
            names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else []
        found |= {name for name in names if name and name.split(".")[0] in ("wsss", "stages", "tests", "benchmarks")}
    return found


def library_files() -> list[Path]:
    return sorted(p for p in LIBRARY.rglob("*.py") if p.name != "__init__.py" or p.parent != LIBRARY)


def wrong_imports(path: Path, module: str) -> list[str]:
    """The imports of ``path`` (module ``module``) that leave the library or do not go down a layer."""
    own = layer_of(part_of(module))
    wrong = []
    for imported in sorted(library_imports(path)):
        if imported.split(".")[0] != "wsss":
            wrong.append(imported)
        elif imported != "wsss" and part_of(imported) != part_of(module) and layer_of(part_of(imported)) >= own:
            wrong.append(imported)
    return wrong


@pytest.mark.parametrize("path", library_files(), ids=lambda p: str(p.relative_to(LIBRARY.parent)))
def test_no_upward_import(path):
    module = ".".join(path.relative_to(LIBRARY.parent).with_suffix("").parts)
    assert wrong_imports(path, module) == [], f"{path} imports outside the lower layers"


def test_the_check_catches_upward_and_sideways_imports(tmp_path):
    source = tmp_path / "walk_labels.py"
    source.write_text("import numpy\nfrom wsss import io, segment\nfrom wsss.refine.pairs import x\n"
                      "def late():\n    from wsss.train.affinity import train_affinity\n")
    # refine may import io and itself; segment is above it and train too (a function-level import counts)
    assert wrong_imports(source, "wsss.refine.walk_labels") == ["wsss.segment", "wsss.train.affinity"]
    source.write_text("from wsss.evaluate import x\nfrom stages.common import main\n")
    # train and evaluate share a layer: neither may import the other; nothing imports the stages
    assert wrong_imports(source, "wsss.train.engine") == ["stages.common", "wsss.evaluate"]


def test_every_library_module_has_a_layer():
    for path in library_files():
        layer_of(path.relative_to(LIBRARY).parts[0].removesuffix(".py"))
