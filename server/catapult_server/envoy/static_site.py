"""A built web app (index.html, hashed assets/…, docs/index.html) served by Envoy itself: one
direct_response route per file, read by Envoy at start-up, so the app needs no server process
and shares the API's origin (no CORS)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePosixPath

# By extension; the content type decides how a browser treats a file, so it is fixed here
# rather than read from the machine's mime.types, which differ between machines.
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".map": "application/json",
    ".webmanifest": "application/manifest+json",
    ".txt": "text/plain; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".avif": "image/avif",
    ".ico": "image/x-icon",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
    ".ttf": "font/ttf",
    ".otf": "font/otf",
    ".wasm": "application/wasm",
}
DEFAULT_CONTENT_TYPE = "application/octet-stream"

# The bundler puts a hash of each file's content in its name under assets/: a changed file is a
# new URL, so a browser may keep these for good. Everything else (index.html above all, which
# names the current assets) is checked again on every load.
HASHED_DIR = "assets"
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"

INDEX = "index.html"


@dataclass(frozen=True)
class StaticFile:
    relative: PurePosixPath  # "assets/app-abc123.js"
    filename: str  # the path Envoy reads the file from
    size: int

    @property
    def url_paths(self) -> list[str]:
        """The paths it is served on: a directory's index.html on the directory too (/, /docs, /docs/)."""
        path = "/" + str(self.relative)
        if self.relative.name != INDEX:
            return [path]
        directory = path[: -len(INDEX)]
        return [directory, directory.rstrip("/"), path] if directory != "/" else ["/", path]

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES.get(self.relative.suffix.lower(), DEFAULT_CONTENT_TYPE)

    @property
    def cache_control(self) -> str:
        return IMMUTABLE if self.relative.parts[0] == HASHED_DIR else REVALIDATE


def static_files(directory: str) -> list[StaticFile]:
    """Every file under `directory` (hidden ones left out), in a stable order."""
    root = Path(directory)
    found = []
    for path in sorted(root.rglob("*")):
        relative = PurePosixPath(path.relative_to(root).as_posix())
        if path.is_file() and not any(part.startswith(".") for part in relative.parts):
            found.append(StaticFile(relative, str(Path(directory) / relative), path.stat().st_size))
    return found
