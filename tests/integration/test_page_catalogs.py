"""Each German page carries the translations of its own modules, all of them and nothing else (issues 17 and 19).

A page's ``<script id="i18n-catalog">`` used to hold every message of every module (the whole German catalog,
over 50 KB, on every page). The server now cuts it to the page's module graph (service.i18n, service.static). A
string cut by mistake would not fail anywhere: the page would quietly show it in English. So this test works out,
for every page and every kind of visitor, what the page's modules can say, independently of the server: the
modules the HTML names, fetched as a browser would, their imports followed (static ones and ``import("…")``, which
a page runs later: the survey's form, the token client), and every ``t("…")`` in them extracted by Babel as ``make
i18n-extract`` does. The page's catalog must hold exactly those messages, each with its German text, under a size
budget; English pages carry none.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from io import BytesIO
from pathlib import Path
from urllib.parse import urljoin

import pytest
from babel.messages.extract import extract
from babel.messages.frontend import parse_mapping_cfg
from litestar.testing import AsyncTestClient

from service import i18n, static
from service.app import create_app
from tests.integration.test_static_assets import BASE, IMPORT_MAP, MODULE, STATIC_IMPORT, page_paths, plain_name
from tests.support import ROLES, login

ROOT = Path(__file__).resolve().parents[2]
STATIC = ROOT / "frontend" / "static"
GERMAN = "de-DE,de;q=0.9,en;q=0.4"
CATALOG = re.compile(r'<script type="application/json" id="i18n-catalog">(.*?)</script>', re.S)
DYNAMIC_IMPORT = re.compile(r"""\bimport\(\s*(["'])([^"']+)\1\s*\)""")
# Measured: the biggest share is the survey's (its form, checks and sending, about 11 KB of German), against about
# 56 KB for the whole catalog every page carried before. The budget leaves room to grow, not to carry another page's.
BUDGET = 14 * 1024


def _javascript_options() -> dict[str, str]:
    """The JavaScript extractor's options from the mapping ``make i18n-extract`` uses."""
    with (ROOT / "service" / "locale" / "babel.cfg").open() as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    pattern = next(pattern for pattern, method in method_map if method == "javascript")
    return dict(options_map.get(pattern, {}))


def _said(source: bytes, options: dict[str, str]) -> set[str]:
    """The msgids of ``t("…")`` in a module's source, as Babel extracts them."""
    found = extract("javascript", BytesIO(source), keywords={"t": None}, options=options)
    return {message for _line, message, _comments, _context in found if isinstance(message, str)}


class Modules:
    """Module bodies as served, their imports and their ``t()`` messages, each worked out once."""

    def __init__(self, client: AsyncTestClient, options: dict[str, str]) -> None:
        self.client = client
        self.options = options
        self.bodies: dict[str, str] = {}
        self.messages: dict[str, set[str]] = {}

    async def body(self, url: str) -> str:
        if url not in self.bodies:
            response = await self.client.get(url)
            assert response.status_code == 200, f"{url}: {response.status_code}"
            self.bodies[url] = response.text
        return self.bodies[url]

    async def graph(self, entries: list[str], imports: dict[str, str]) -> set[str]:
        """Every module URL the entries load, now or later (static imports and literal ``import()``)."""
        seen: set[str] = set()
        todo = list(entries)
        while todo:
            url = todo.pop()
            if url in seen:
                continue
            seen.add(url)
            text = await self.body(url)
            specifiers = [m[1] or m[2] for m in STATIC_IMPORT.finditer(text)] + [m[2] for m in DYNAMIC_IMPORT.finditer(text)]
            for specifier in specifiers:
                resolved = urljoin(BASE + url, specifier).removeprefix(BASE)
                assert resolved in imports, f"{url} imports {resolved}, which the import map does not map"
                todo.append(imports[resolved])
        return seen

    async def said(self, url: str) -> set[str]:
        """The msgids of ``t("…")`` in the module, as Babel extracts them."""
        if url not in self.messages:
            self.messages[url] = _said((await self.body(url)).encode(), self.options)
        return self.messages[url]


def _catalog(html: str) -> dict[str, str] | None:
    found = CATALOG.findall(html)
    assert len(found) <= 1, "one catalog per page"
    return json.loads(found[0]) if found else None


async def test_every_german_page_carries_exactly_its_modules_messages(settings):
    app = create_app(replace(settings, disabled_jobs=frozenset({"webhook_worker"})))
    options = _javascript_options()
    german = i18n.translations("de")
    sizes: list[tuple[int, str, str, int]] = []
    modules_seen: set[str] = set()
    problems: list[str] = []
    for caller in ("anonymous", *ROLES):
        async with AsyncTestClient(app, base_url=BASE) as client:
            if caller != "anonymous":
                await login(client, caller)
            modules = Modules(client, options)
            for path in page_paths(app):
                english = await client.get(path, follow_redirects=False)
                if english.status_code != 200 or not english.headers["content-type"].startswith("text/html"):
                    continue
                assert 'id="i18n-catalog"' not in english.text, f"{path} as {caller}: English needs no catalog"
                response = await client.get(path, headers={"accept-language": GERMAN}, follow_redirects=False)
                assert response.status_code == 200 and '<html lang="de">' in response.text
                html = response.text
                entries = MODULE.findall(html)
                imports = json.loads(IMPORT_MAP.findall(html)[0])["imports"]
                graph = await modules.graph(entries, imports)
                modules_seen.update(graph)
                expected: set[str] = set()
                for url in graph:
                    expected |= await modules.said(url)
                catalog = _catalog(html)
                where = f"{path} as {caller}"
                if not expected:
                    assert catalog is None, f"{where}: no module says anything, yet the page carries a catalog"
                    continue
                assert catalog is not None, f"{where}: its modules use t(), but the page carries no catalog"
                missing = sorted(expected - catalog.keys())
                extra = sorted(catalog.keys() - expected)
                problems += [f"{where}: missing {msgid!r} (it would show in English)" for msgid in missing]
                problems += [f"{where}: carries {msgid!r}, which none of its modules uses" for msgid in extra]
                problems += [f"{where}: {msgid!r} is not its German text" for msgid, text in catalog.items()
                             if text != german.gettext(msgid)]
                raw = CATALOG.findall(html)[0].encode()
                sizes.append((len(raw), path, caller, len(catalog)))
    assert not problems, "page catalogs differ from their modules' messages (run `make i18n-extract`?):\n" + "\n".join(
        problems[:40])
    # The pages reached every module that says something, and German pages did get catalogs.
    talking = {"/static/" + p.relative_to(STATIC).as_posix() for p in (STATIC / "js").rglob("*.js")
               if 't("' in p.read_text() and p.name != "i18n.js"}
    reached = {"/static/" + plain_name(url).relative_to(STATIC).as_posix() for url in modules_seen}
    assert talking <= reached, f"modules no page reached: {sorted(talking - reached)}"
    whole = len(json.dumps(i18n.js_messages("de"), ensure_ascii=False).encode())
    sizes.sort(reverse=True)
    print(f"\nGerman catalogs per page (the whole catalog: {whole:,} B):\n" + "\n".join(
        f"{size:>7,} B  {count:>3} messages  {path} as {caller}" for size, path, caller, count in sizes[:8]))
    assert sizes and sizes[0][0] <= BUDGET, f"a page carries {sizes[0][0]:,} B of translations, over {BUDGET:,} B"
    assert sizes[0][0] < whole / 3, "no page carries anything like the whole catalog"


async def test_the_survey_carries_the_strings_of_the_modules_it_loads_later(client):
    """Loaded with import() once the wave is open, survey-form, -check and -send still speak German."""
    await login(client, "member")
    html = (await client.get("/surveys/00000000-0000-0000-0000-000000000000",
                             headers={"accept-language": GERMAN})).text
    catalog = _catalog(html) or {}
    options = _javascript_options()
    lib = STATIC / "js" / "lib"
    for name in ("survey-form.js", "survey-check.js", "survey-send.js", "transparency.js"):
        said = _said((lib / name).read_bytes(), options)
        assert said and said <= catalog.keys(), f"lib/{name}: {sorted(said - catalog.keys())[:5]}"
    # …and none of another page's: the thread composer's check for identifying details is not the survey's.
    theirs = _said((lib / "threads-identify.js").read_bytes(), options)
    for other in lib.glob("*.js"):
        if other.name != "threads-identify.js":
            theirs -= _said(other.read_bytes(), options)
    assert theirs and not theirs & catalog.keys()


def test_the_catalog_cannot_close_its_script_element():
    text = i18n._json_for_script({"a</script><script>alert(1)</script>": "<b>&amp;</b>"})  # noqa: SLF001
    assert "<" not in text and ">" not in text and "&" not in text
    assert json.loads(text) == {"a</script><script>alert(1)</script>": "<b>&amp;</b>"}


@pytest.mark.parametrize(("source", "reason"), [
    ("const name = './x.js';\nawait import(name);\n", "computed specifier"),
    ("await import(`./base.js`);\n", "computed specifier"),
    ('import { x } from "./nothing.js";\n', "no file"),
    ('const m = await import("../../../service/app.py");\n', "no file"),
    ('import { x } from "lodash";\n', "neither relative"),
])
def test_a_module_whose_imports_cannot_be_followed_stops_start_up(source, reason):
    """A computed import() would hide a module, and its strings, from the page's catalog: refused, loudly."""
    assets = static.manifest().assets
    with pytest.raises((ValueError, LookupError), match=reason):
        static.module_imports("js/lib/new.js", source, assets)


def test_prose_about_import_in_comments_is_not_an_import():
    assets = static.manifest().assets
    source = '// the form comes with import() later\nconst form = import("./base.js");\n'
    assert static.module_imports("js/lib/new.js", source, assets) == {"js/lib/base.js"}


def test_the_graph_follows_dynamic_imports():
    graph = static.module_graph(frozenset({"js/pages/survey.js"}))
    assert {"js/lib/survey-form.js", "js/lib/survey-check.js", "js/lib/survey-send.js"} <= graph
    assert "js/lib/threads-identify.js" not in graph
