"""Static files under content-hashed names, compressed once, cached for good.

There is no build step, so the fingerprints are made here: once per process, every file
under ``frontend/static`` is read, hashed (SHA-256 of its bytes) and, where that saves
bytes, gzipped. A page names its assets through the template global ``asset()``
(``/static/js/pages/survey.<hash>.js``), which a browser may keep for a year without asking
again: a new release changes the bytes, hence the name. The plain name keeps working, with
``no-cache`` and an ETag, for anything that still asks for it (a module's own relative
``import``, a ``fetch`` of the word list, an old tab).

Modules import each other by relative path (``../lib/base.js``), which resolves to the
plain name. The import map in every page's head (``import_map()``) maps those plain URLs
to the hashed ones; the browser applies it to a relative specifier after resolving it, so
the modules stay as written. The map is an inline script: the Content-Security-Policy
allows exactly its SHA-256 (``script_hash()``), nothing else inline.

Files are served from memory, by exact name from the manifest: a path that is not a file
there (``..``, a directory, a file added after start-up) is a 404. Edits are picked up
on restart.

The manifest also knows what each module imports, statically and with ``import("…")``, so
``module_graph()`` names every module a page may run, now or later. A page's translations
are cut to that graph (service.i18n): the template's ``asset()`` notes the modules a page
names in ``page_modules``. A module whose imports cannot be followed (a specifier that is
not a literal, a file that does not exist) stops start-up rather than lose a page's strings.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import mimetypes
import posixpath
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path, PurePosixPath
from typing import Any

from jinja2 import pass_context
from jinja2.runtime import Context
from litestar import Request, Response, Router, get, head
from litestar.params import FromPath
from markupsafe import Markup

STATIC = Path(__file__).resolve().parent.parent / "frontend" / "static"
URL_PREFIX = "/static/"
# 64 bits of the SHA-256: a cache key, not a signature; collisions between two releases
# of one file are what it has to avoid.
DIGEST_CHARS = 16
IMMUTABLE = "public, max-age=31536000, immutable"
# The plain name: a browser may keep it, but asks each time whether it changed (ETag).
REVALIDATE = "no-cache"
MEDIA_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
}
COMPRESSIBLE = frozenset({".js", ".css", ".txt", ".json", ".svg"})
# Modules that pages import; the page modules themselves are loaded by <script src="{{ asset(...) }}">.
ENTRY_POINTS = "js/pages/"
# A module's imports. Static: `import … from "x"`, `export … from "x"`, `import "x"`, each starting a line
# (as tests/integration/test_static_assets.py reads them). Dynamic: every `import(`; its argument must be
# one string literal, or nobody could tell which module, and which strings, the page needs.
STATIC_IMPORT = re.compile(r"""^\s*(?:import|export)\s[^;]*?\bfrom\s*["']([^"']+)["']|^\s*import\s*["']([^"']+)["']""", re.M)
DYNAMIC_IMPORT = re.compile(r"""\bimport\(\s*(?:(["'])([^"'\n]+)\1\s*\)|(\)))?""")
# The template context's set of modules the page names with asset() (its entry points).
PAGE_MODULES = "page_modules"


@dataclass(frozen=True, slots=True)
class Asset:
    """One file: its bytes, their digest, and the gzipped bytes when those are smaller."""

    name: str
    digest: str
    media_type: str
    body: bytes
    gzipped: bytes | None

    @property
    def hashed_name(self) -> str:
        path = PurePosixPath(self.name)
        return str(path.with_name(f"{path.stem}.{self.digest}{path.suffix}"))

    def etag(self, gzipped: bool) -> str:
        # Two representations, two strong validators (RFC 9110 §8.8.3).
        return f'"{self.digest}-gz"' if gzipped else f'"{self.digest}"'


def read_asset(root: Path, path: Path) -> Asset:
    body = path.read_bytes()
    suffix = path.suffix.lower()
    packed = gzip.compress(body, compresslevel=9, mtime=0) if suffix in COMPRESSIBLE else None
    return Asset(
        name=path.relative_to(root).as_posix(),
        digest=hashlib.sha256(body).hexdigest()[:DIGEST_CHARS],
        media_type=MEDIA_TYPES.get(suffix) or mimetypes.guess_type(path.name)[0] or "application/octet-stream",
        body=body,
        gzipped=packed if packed is not None and len(packed) < len(body) else None,
    )


class Manifest:
    """Every static file by plain and by hashed name; the import map and its CSP hash."""

    def __init__(self, assets: Mapping[str, Asset]) -> None:
        self.assets = dict(assets)
        self.by_url: dict[str, tuple[Asset, bool]] = {}
        for asset in self.assets.values():
            self.by_url[asset.name] = (asset, False)
        for asset in self.assets.values():
            self.by_url.setdefault(asset.hashed_name, (asset, True))
        imports = {
            URL_PREFIX + a.name: URL_PREFIX + a.hashed_name
            for a in sorted(self.assets.values(), key=lambda a: a.name)
            if a.name.endswith(".js") and not a.name.startswith(ENTRY_POINTS)
        }
        # "<" escaped: the text sits inside <script>; the JSON means the same.
        self.import_map = json.dumps({"imports": imports}, separators=(",", ":")).replace("<", "\\u003c")
        digest = hashlib.sha256(self.import_map.encode()).digest()
        self.script_hash = f"'sha256-{base64.b64encode(digest).decode()}'"
        self.imports = {a.name: module_imports(a.name, a.body.decode(), self.assets)
                        for a in self.assets.values() if a.name.endswith(".js")}

    def module_graph(self, entries: Iterable[str]) -> frozenset[str]:
        """Every module the ``entries`` may load: their imports, static and dynamic, transitively."""
        seen: set[str] = set()
        todo = list(entries)
        while todo:
            name = todo.pop()
            if name not in seen:
                if name not in self.imports:
                    raise LookupError(f"no module {name!r} under frontend/static")
                seen.add(name)
                todo.extend(self.imports[name])
        return frozenset(seen)

    def url(self, name: str) -> str:
        asset = self.assets.get(name)
        if asset is None:
            raise LookupError(f"no static file {name!r} under frontend/static")
        return URL_PREFIX + asset.hashed_name

    def find(self, path: str) -> tuple[Asset, bool] | None:
        """The asset a URL path below /static/ names, and whether the name was the hashed one."""
        return self.by_url.get(path)


def module_imports(name: str, source: str, assets: Mapping[str, Asset]) -> frozenset[str]:
    """The files the module ``name`` imports, statically or with ``import()``, by their names in ``assets``."""
    specifiers = [m[1] or m[2] for m in STATIC_IMPORT.finditer(source)]
    for m in DYNAMIC_IMPORT.finditer(source):
        if m[2]:
            specifiers.append(m[2])
        elif not m[3]:  # `import()` with nothing inside is prose in a comment; anything else is computed
            line = source.count("\n", 0, m.start()) + 1
            raise ValueError(f"{name}:{line}: import() of a computed specifier; name the module as a string literal")
    found: set[str] = set()
    for specifier in specifiers:
        if specifier.startswith(URL_PREFIX):
            target = specifier.removeprefix(URL_PREFIX)
        elif specifier.startswith(("./", "../")):
            target = posixpath.normpath(posixpath.join(posixpath.dirname(name), specifier))
        else:
            raise ValueError(f"{name}: import of {specifier!r}, which is neither relative nor under {URL_PREFIX}")
        if target not in assets:
            raise LookupError(f"{name}: imports {specifier!r}, which is no file under frontend/static")
        found.add(target)
    return frozenset(found)


def build_manifest(root: Path) -> Manifest:
    files = (p for p in sorted(root.rglob("*")) if p.is_file() and not any(part.startswith(".") for part in p.parts))
    return Manifest({a.name: a for a in (read_asset(root, p) for p in files)})


@cache
def manifest() -> Manifest:
    return build_manifest(STATIC)


def asset(name: str) -> str:
    """The hashed URL of ``frontend/static/<name>``."""
    return manifest().url(name)


@pass_context
def page_asset(context: Context, name: str) -> str:
    """Template global ``asset()``: the hashed URL, and a module noted in the page's ``page_modules``."""
    modules = context.get(PAGE_MODULES)
    if isinstance(modules, set) and name.endswith(".js"):
        modules.add(name)
    return asset(name)


@cache
def module_graph(entries: frozenset[str]) -> frozenset[str]:
    """Every module the page modules ``entries`` may load, computed once per set of entries."""
    return manifest().module_graph(entries)


def import_map() -> Markup:
    """Template global: the page's import map, before any module script."""
    return Markup(f'<script type="importmap">{manifest().import_map}</script>')


def script_hash() -> str:
    """The CSP source that allows the import map and no other inline script."""
    return manifest().script_hash


def install(environment: Any) -> None:
    environment.globals.update(asset=page_asset, import_map=import_map)


def accepts_gzip(accept_encoding: str) -> bool:
    """Whether ``Accept-Encoding`` allows gzip: named with q > 0, or ``*`` with q > 0 and gzip not named."""
    named: float | None = None
    wildcard: float | None = None
    for part in accept_encoding.split(","):
        coding, *params = (piece.strip() for piece in part.split(";"))
        quality = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        coding = coding.lower()
        if coding in ("gzip", "x-gzip"):
            named = quality
        elif coding == "*":
            wildcard = quality
    chosen = named if named is not None else wildcard
    return chosen is not None and chosen > 0


def _matches(if_none_match: str, etag: str) -> bool:
    # Weak comparison (RFC 9110 §13.1.2): W/ is ignored.
    tags = [t.strip().removeprefix("W/") for t in if_none_match.split(",")]
    return "*" in tags or etag in tags


def _respond(request: Request[Any, Any, Any], file_path: str) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and body of the answer to GET ``/static/<file_path>``."""
    found = manifest().find(file_path.lstrip("/"))
    if found is None:
        return 404, {"cache-control": REVALIDATE, "content-type": "text/plain; charset=utf-8"}, b"Not found"
    asset, immutable = found
    packed = asset.gzipped is not None and accepts_gzip(request.headers.get("accept-encoding", ""))
    headers = {"cache-control": IMMUTABLE if immutable else REVALIDATE, "etag": asset.etag(packed)}
    if asset.gzipped is not None:
        headers["vary"] = "Accept-Encoding"
    if _matches(request.headers.get("if-none-match", ""), headers["etag"]):
        return 304, headers, b""
    if packed:
        headers["content-encoding"] = "gzip"
    headers["content-type"] = asset.media_type
    return 200, headers, asset.gzipped if packed and asset.gzipped is not None else asset.body


@get("/{file_path:path}", name="static", include_in_schema=False)
async def static_file(request: Request[Any, Any, Any], file_path: FromPath[Path]) -> Response[bytes]:
    status, headers, body = _respond(request, file_path.as_posix())
    return Response(body, status_code=status, headers=headers)


@head("/{file_path:path}", name="static/head", include_in_schema=False)
async def static_file_head(request: Request[Any, Any, Any], file_path: FromPath[Path]) -> Response[None]:
    status, headers, body = _respond(request, file_path.as_posix())
    return Response(None, status_code=status, headers={**headers, "content-length": str(len(body))})


def static_files_router() -> Router:
    manifest()  # read and compress every file now, not on the first request
    return Router(path="/static", route_handlers=[static_file, static_file_head], tags=["pages"])
