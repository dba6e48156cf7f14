"""The browser modules as the templates load them: every page entry lives in js/pages/,
every import resolves to a file under js/ and names something that file exports (a broken
path or name is a page that silently does nothing: no build step would catch it), shared
code lives in js/lib/ and never imports a page, each thing is written once, and each
page's module graph stays within its JavaScript budget."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

FRONTEND = Path(__file__).resolve().parents[3] / "frontend"
JS = FRONTEND / "static" / "js"
TEMPLATES = FRONTEND / "templates"

SCRIPT = re.compile(r"""<script\b[^>]*\bsrc=(?:"([^"]+)"|'([^']+)')""")
# Templates name their modules through service.static's asset(), which gives the hashed URL.
ASSET = re.compile(r"""^\{\{ asset\('(js/[^']+)'\) \}\}$""")
IMPORT = re.compile(r"""^\s*(?:import|export)\s+([^;]*?)\s*from\s+["']([^"']+)["']""", re.M | re.S)
DYNAMIC = re.compile(r"""\bimport\(\s*["']([^"']+)["']\s*\)""")
DECLARED = re.compile(r"^\s*export\s+(?:async\s+)?(?:function\*?|class|const|let|var)\s+([A-Za-z_$][\w$]*)", re.M)
LISTED = re.compile(r"^\s*export\s*\{([^}]*)\}", re.M)
BUDGET = 100 * 1024  # bytes of JavaScript a page may load, its whole module graph


def entries() -> dict[str, str]:
    """template (relative path) -> each module it loads with <script src=...>."""
    found = {}
    for template in sorted(TEMPLATES.rglob("*.html")):
        for src in map("".join, SCRIPT.findall(template.read_text())):
            found[f"{template.relative_to(TEMPLATES)} {src}"] = src
    return found


def module_path(src: str) -> Path:
    named = ASSET.match(src)
    assert named, f"{src}: pages load only this origin's modules, through asset()"
    return JS / named[1].removeprefix("js/")


def exports(path: Path) -> set[str]:
    source = path.read_text()
    names = set(DECLARED.findall(source))
    for group in LISTED.findall(source):
        names |= {part.split(" as ")[-1].strip() for part in group.split(",") if part.strip()}
    return names


def imports(path: Path) -> list[tuple[str, Path]]:
    """(the clause, the resolved path) of each static or dynamic import in `path`."""
    source = path.read_text()
    found = [(clause, (path.parent / spec).resolve()) for clause, spec in IMPORT.findall(source)]
    found += [("*", (path.parent / spec).resolve()) for spec in DYNAMIC.findall(source)]
    for _, target in found:
        assert target.is_relative_to(JS.resolve()), f"{path.name} imports {target} from outside js/"
    return found


def graph(entry: Path) -> set[Path]:
    seen: set[Path] = set()
    todo = [entry.resolve()]
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        assert path.is_file(), f"{path} is imported but does not exist"
        seen.add(path)
        todo.extend(target for _, target in imports(path))
    return seen


def test_there_are_page_entries():
    assert len(entries()) >= 15


@pytest.mark.parametrize("src", sorted(set(entries().values())))
def test_each_page_entry_is_a_page_module(src):
    path = module_path(src)
    assert path.parent == JS / "pages", f"{src}: a page entry lives in js/pages/"
    assert path.is_file(), f"{src} does not exist"


def test_every_module_is_a_page_or_in_lib():
    for path in JS.rglob("*.js"):
        assert path.parent in (JS / "pages", JS / "lib"), f"{path.relative_to(JS)} is neither a page nor lib"


def test_every_page_module_is_loaded_by_a_template():
    loaded = {module_path(src) for src in entries().values()}
    for path in (JS / "pages").glob("*.js"):
        assert path in loaded, f"{path.name} is in pages/ but no template loads it"


def test_lib_never_imports_a_page_and_pages_never_import_each_other():
    for path in JS.rglob("*.js"):
        for _, target in imports(path):
            assert target.parent != (JS / "pages").resolve(), f"{path.relative_to(JS)} imports the page {target.name}"


@pytest.mark.parametrize("path", sorted(JS.rglob("*.js")), ids=lambda p: str(p.relative_to(JS)))
def test_every_imported_name_is_exported(path):
    for clause, target in imports(path):
        assert target.is_file(), f"{path.relative_to(JS)} imports {target} which does not exist"
        named = re.search(r"\{([^}]*)\}", clause)
        if not named:
            continue  # `import * as x` or a bare default import
        wanted = {part.split(" as ")[0].strip() for part in named.group(1).split(",") if part.strip()}
        missing = wanted - exports(target)
        assert not missing, f"{path.relative_to(JS)} imports {sorted(missing)} that {target.name} does not export"


@pytest.mark.parametrize("key", sorted(entries()))
def test_each_page_stays_within_its_budget(key):
    modules = graph(module_path(entries()[key]))
    total = sum(p.stat().st_size for p in modules)
    assert total < BUDGET, f"{key} loads {total} bytes of JavaScript"


def test_one_token_client_and_one_token_store():
    # The issuance client and the IndexedDB idiom are written once (issue 14): no module but
    # lib/tokens.js posts token requests or finalizes tokens, none but lib/store.js opens IndexedDB.
    for path in JS.rglob("*.js"):
        source = path.read_text()
        name = str(path.relative_to(JS))
        if name not in ("lib/tokens.js", "lib/privacypass.js"):
            assert "application/private-token-request" not in source, name
            assert not re.search(r"\b(createTokenRequest|finalizeToken)\(", source), name
        if name != "lib/store.js":
            assert "indexedDB" not in source, name
            assert ".transaction(" not in source, name


def test_one_field_error_renderer():
    for path in JS.rglob("*.js"):
        name = str(path.relative_to(JS))
        if name != "lib/field-errors.js":
            source = path.read_text()
            assert "querySelectorAll(\".field-error\")" not in source, f"{name} renders field errors itself"
