"""Static assets: content-hashed names cached for good, gzip when asked for, validators,
the import map the Content-Security-Policy allows by hash, and each page's JavaScript
budget (issue 19: no page's module graph over 30 KB).

Everything is fetched through the app, as a browser would: the page as each kind of
visitor, its ``<script type="module">`` sources, their static imports resolved against
the module's URL and then through the page's import map."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import re
import uuid
from dataclasses import replace
from pathlib import Path
from urllib.parse import urljoin

import pytest
from litestar.testing import AsyncTestClient

from service.app import create_app
from tests.support import ROLES, login

STATIC = Path(__file__).resolve().parents[2] / "frontend" / "static"
BUDGET = 30 * 1024  # uncompressed bytes of JavaScript in one page's static module graph
BASE = "http://127.0.0.1:8000"
HASHED = re.compile(r"^/static/(?P<dir>(?:[^/]+/)*)(?P<stem>[^/]+)\.(?P<digest>[0-9a-f]{16})(?P<suffix>\.[a-z0-9]+)$")
MODULE = re.compile(r'<script type="module" src="([^"]+)"></script>')
IMPORT_MAP = re.compile(r'<script type="importmap">(.*?)</script>', re.S)
STYLESHEET = re.compile(r'<link rel="stylesheet" href="([^"]+)">')
STATIC_IMPORT = re.compile(r"""^\s*(?:import|export)\s[^;]*?\bfrom\s*["']([^"']+)["']|^\s*import\s*["']([^"']+)["']""", re.M)
NOT_PAGES = ("/api/", "/anon/", "/static/", "/scim/", "/schema", "/healthz", "/readyz", "/language")
PATH_PARAM = re.compile(r"\{[^}]+\}")


def plain_name(url: str) -> Path:
    """The file a hashed URL names, after checking the hash is that of the file's bytes."""
    m = HASHED.match(url)
    assert m, f"{url} is not a content-hashed static URL"
    path = STATIC / f"{m['dir']}{m['stem']}{m['suffix']}"
    assert hashlib.sha256(path.read_bytes()).hexdigest().startswith(m["digest"]), f"{url}: hash is not the bytes'"
    return path


# Headers ------------------------------------------------------------------------------------


async def test_hashed_url_is_immutable_and_gzipped_on_request(client):
    html = (await client.get("/login")).text
    url = STYLESHEET.findall(html)[0]
    original = plain_name(url).read_bytes()
    packed = await client.get(url, headers={"accept-encoding": "gzip"})
    assert packed.status_code == 200
    assert packed.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert packed.headers["content-encoding"] == "gzip"
    assert packed.headers["vary"] == "Accept-Encoding"
    assert packed.headers["content-type"] == "text/css; charset=utf-8"
    # httpx undoes the gzip; the bytes on the wire are the smaller gzip member.
    assert packed.content == original
    assert int(packed.headers["content-length"]) < len(original)
    assert gzip.decompress(await _raw(client, url, "gzip")) == original
    for refused in ("identity", "gzip;q=0", "br", "gzip;q=0, *;q=1", ""):
        plain = await client.get(url, headers={"accept-encoding": refused})
        assert "content-encoding" not in plain.headers, refused
        assert plain.content == original and int(plain.headers["content-length"]) == len(original)
        assert plain.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert plain.headers["etag"] != packed.headers["etag"], "two representations, two validators"
    wildcard = await client.get(url, headers={"accept-encoding": "*"})
    assert wildcard.headers["content-encoding"] == "gzip"


async def _raw(client: AsyncTestClient, url: str, encoding: str) -> bytes:
    """The body as sent, before the client undoes any content coding."""
    request = client.build_request("GET", url, headers={"accept-encoding": encoding})
    response = await client.send(request, stream=True)
    try:
        return b"".join([chunk async for chunk in response.aiter_raw()])
    finally:
        await response.aclose()


async def test_if_none_match_gives_304_for_either_name(client):
    url = MODULE.findall((await client.get("/privacy")).text)[0]
    for name in (url, "/static/" + plain_name(url).relative_to(STATIC).as_posix()):
        for encoding in ("gzip", "identity"):
            first = await client.get(name, headers={"accept-encoding": encoding})
            etag = first.headers["etag"]
            again = await client.get(name, headers={"accept-encoding": encoding, "if-none-match": etag})
            assert again.status_code == 304 and again.content == b""
            assert again.headers["etag"] == etag and again.headers["cache-control"] == first.headers["cache-control"]
            weak = await client.get(name, headers={"accept-encoding": encoding, "if-none-match": f'"other", W/{etag}'})
            assert weak.status_code == 304
            other = await client.get(name, headers={"accept-encoding": encoding, "if-none-match": '"other"'})
            assert other.status_code == 200 and other.content == plain_name(url).read_bytes()


async def test_plain_names_keep_working_but_revalidate(client):
    response = await client.get("/static/js/lib/base.js", headers={"accept-encoding": "gzip"})
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["content-type"] == "text/javascript; charset=utf-8"
    assert response.headers["etag"] and response.headers["content-encoding"] == "gzip"
    assert response.content == (STATIC / "js/lib/base.js").read_bytes()
    words = await client.get("/static/wordlist-bip39-english.txt")
    assert words.status_code == 200 and words.content == (STATIC / "wordlist-bip39-english.txt").read_bytes()


async def test_head_answers_like_get_without_a_body(client):
    get = await client.get("/static/css/candor.css", headers={"accept-encoding": "gzip"})
    head = await client.head("/static/css/candor.css", headers={"accept-encoding": "gzip"})
    assert head.status_code == 200 and head.content == b""
    for name in ("etag", "cache-control", "content-encoding", "content-type", "vary", "content-length"):
        assert head.headers[name] == get.headers[name], name


@pytest.mark.parametrize("path", [
    "/static/js/lib/base.0000000000000000.js",  # a hash that is not this file's (an old release)
    "/static/js/lib/",
    "/static/js",
    "/static/../service/settings.py",
    "/static/js/lib/../../../pyproject.toml",
    "/static/js/lib/nothing.js",
])
async def test_only_files_of_the_manifest_are_served(client, path):
    response = await client.get(path)
    assert response.status_code == 404
    assert "immutable" not in response.headers.get("cache-control", "")


# The import map and the policy that allows it ---------------------------------------------------


async def test_import_map_maps_every_shared_module_and_only_it_runs_inline(client):
    await login(client, "member")
    response = await client.get("/")
    html = response.text
    maps = IMPORT_MAP.findall(html)
    assert len(maps) == 1
    head = html.split("</head>", 1)[0]
    assert head.index('<script type="importmap">') < head.index('<script type="module"'), "the map comes first"
    imports = json.loads(maps[0])["imports"]
    shared = sorted(p.relative_to(STATIC).as_posix() for p in (STATIC / "js" / "lib").glob("*.js"))
    assert sorted(k.removeprefix("/static/") for k in imports) == shared
    for plain, hashed in imports.items():
        assert plain_name(hashed) == STATIC / plain.removeprefix("/static/")
    policy = response.headers["content-security-policy"]
    script_src = next(d for d in policy.split(";") if d.strip().startswith("script-src")).split()
    digest = base64.b64encode(hashlib.sha256(maps[0].encode()).digest()).decode()
    assert script_src == ["script-src", "'self'", f"'sha256-{digest}'"], "the map's hash and nothing inline else"
    # Every page carries the same map, so one hash in the policy covers all of them.
    assert IMPORT_MAP.findall((await client.get("/privacy")).text) == maps


# Each page's JavaScript --------------------------------------------------------------------------


def page_paths(app) -> list[str]:
    """GET routes that render pages, path parameters filled with an id nothing has."""
    paths = set()
    for route in app.routes:
        if "GET" in route.methods and not route.path.startswith(NOT_PAGES):
            paths.add(PATH_PARAM.sub(str(uuid.UUID(int=0)), route.path))
    return sorted(paths)


class Graphs:
    """Module bytes as served, fetched once each."""

    def __init__(self, client: AsyncTestClient) -> None:
        self.client = client
        self.bodies: dict[str, bytes] = {}

    async def body(self, url: str) -> bytes:
        if url not in self.bodies:
            response = await self.client.get(url)
            assert response.status_code == 200, f"{url}: {response.status_code}"
            assert response.headers["content-type"].startswith("text/javascript")
            self.bodies[url] = response.content
        return self.bodies[url]

    async def graph(self, entries: list[str], imports: dict[str, str]) -> dict[str, int]:
        """URL -> size of every module the entries load before they run (static imports only)."""
        seen: dict[str, int] = {}
        todo = list(entries)
        while todo:
            url = todo.pop()
            if url in seen:
                continue
            text = (await self.body(url)).decode()
            seen[url] = len(await self.body(url))
            for m in STATIC_IMPORT.finditer(text):
                resolved = urljoin(BASE + url, m[1] or m[2]).removeprefix(BASE)
                assert resolved in imports, f"{url} imports {resolved}, which the import map does not map"
                todo.append(imports[resolved])
        return seen


async def test_no_page_loads_more_than_30_kb_of_javascript(settings):
    app = create_app(replace(settings, disabled_jobs=frozenset({"webhook_worker"})))
    pages: dict[tuple[str, str], dict[str, int]] = {}
    entries_seen: set[str] = set()
    for caller in ("anonymous", *ROLES):
        async with AsyncTestClient(app, base_url=BASE) as client:
            if caller != "anonymous":
                await login(client, caller)
            graphs = Graphs(client)
            for path in page_paths(app):
                response = await client.get(path, follow_redirects=False)
                if response.status_code != 200 or not response.headers["content-type"].startswith("text/html"):
                    continue
                entries = MODULE.findall(response.text)
                if not entries:
                    continue
                imports = json.loads(IMPORT_MAP.findall(response.text)[0])["imports"]
                entries_seen.update(entries)
                pages[(path, caller)] = await graphs.graph(entries, imports)
    loaded = {STATIC / f"{m['dir']}{m['stem']}{m['suffix']}" for m in map(HASHED.match, entries_seen) if m}
    assert loaded == set((STATIC / "js" / "pages").glob("*.js")), "every page module was reached by some page"
    totals = sorted(((sum(g.values()), page, caller, g) for (page, caller), g in pages.items()), reverse=True)
    report = [f"{total:>7,} B  {page} as {caller}" for total, page, caller, _ in totals[:8]]
    print("\nBiggest pages (static module graph, uncompressed):\n" + "\n".join(report))
    over = [(total, page, caller, graph) for total, page, caller, graph in totals if total > BUDGET]
    assert not over, "over 30 KB of JavaScript:\n" + "\n".join(
        f"{total:,} B {page} as {caller}: " + ", ".join(f"{u.rsplit('/', 1)[1]} {n:,}" for u, n in
                                                   sorted(graph.items(), key=lambda kv: -kv[1]))
        for total, page, caller, graph in over)
