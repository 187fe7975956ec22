"""Dependencies point one way: core <- data, decision <- models <- chat, w2s <- runs <- evaluation, oversight,
alc <- report <- cli. Every import in the package (module-level or inside a function) is checked."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "superalign"
# Layer of each top-level part; a part may import its own modules and anything in a lower layer.
LAYERS = {
    "core": 0,  # errors, paths, io, registry, metrics, progress, settings (modules directly in superalign/)
    "engine": 1,  # kinds, specs, the run store, the grid runner and its executors: core only, no family
    "data": 1, "decision": 1, "sandbox": 1,  # the sandbox uses core only
    "models": 2,
    "chat": 3,  # uses the packaged models (SmolLM2 files)
    "w2s": 3,  # (chat and w2s do not import each other)
    "runs": 4,  # the w2s sweep dialect and run_all over the engine
    "evaluation": 5, "oversight": 5, "alc": 5, "probes": 5,
    "shutdown": 5,  # gridworld agents (the bridge reads the decision module) and language-model agents (chat)
    "researcher": 6,  # the agent drives the pipeline, the run store and the chat models
    "report": 7,
    "cli": 8,
}


def _part(module: str) -> str:
    parts = module.split(".")
    if len(parts) < 2 or parts[0] != "superalign":
        return ""
    return parts[1] if (PACKAGE / parts[1]).is_dir() else "core"


def _imports(path: Path):
    module = "superalign." + ".".join(path.relative_to(PACKAGE).with_suffix("").parts)
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            base = node.module
            if node.level:  # relative import
                base = ".".join(module.split(".")[: -node.level] + [node.module])
            yield module, base
            for alias in node.names:  # `from superalign import w2s` imports the part w2s
                yield module, f"{base}.{alias.name}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                yield module, alias.name


def test_dependencies_point_one_way():
    violations = []
    for path in PACKAGE.rglob("*.py"):
        for importer, imported in _imports(path):
            src, dst = _part(importer), _part(imported)
            if not dst or src == dst or dst not in LAYERS and dst != "core":
                continue
            if LAYERS[dst] >= LAYERS[src]:
                violations.append(f"{importer} imports {imported} ({src} -> {dst})")
    assert not violations, "\n".join(sorted(set(violations)))


def test_every_part_has_a_layer():
    parts = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert parts <= set(LAYERS), f"give these parts a layer: {parts - set(LAYERS)}"


def test_the_engine_imports_no_family():
    """Kinds reach the engine through the `superalign.kinds` entry points, never through an import."""
    imported = {dst for path in (PACKAGE / "engine").rglob("*.py") for _, dst in _imports(path)}
    parts = {_part(m) for m in imported} - {"", "engine", "core"}
    assert not parts, f"the engine imports {sorted(parts)}"
