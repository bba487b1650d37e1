"""Download helper shared by the datasets that are not bundled.

Files go to a cache folder (``$GROUNDUP_DATA``, else ``~/.cache/groundup``). Each file is tried
from a list of mirrors in turn, streamed into ``<name>.partial`` while its SHA-256 is computed,
checked against the expected hash, and only then renamed into place (``os.replace`` is atomic),
so an interrupted or corrupt download never leaves a file that looks complete.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from groundup.errors import DataError, hint

__all__ = ["RemoteFile", "cache_dir", "sha256_file", "download_file", "ensure_files"]

_CHUNK = 1 << 20
_USER_AGENT = "groundup-data/0.1 (+https://github.com/groundup)"


@dataclass(frozen=True)
class RemoteFile:
    """A file to fetch: its ``name`` (appended to each mirror URL) and the SHA-256 (hex) of the
    bytes as downloaded."""

    name: str
    sha256: str


def cache_dir() -> Path:
    """Where downloaded datasets live: ``$GROUNDUP_DATA`` if set, else ``~/.cache/groundup``."""
    env = os.environ.get("GROUNDUP_DATA")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "groundup"


def sha256_file(path: str | os.PathLike) -> str:
    """Hex SHA-256 of a file's bytes, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _fetch_one(url: str, partial: Path, timeout: float) -> str:
    """Stream ``url`` into ``partial``; return the SHA-256 of what arrived. Raises on HTTP
    errors and on a body shorter than its Content-Length."""
    request = urllib.request.Request(url, headers={"User-Agent": _USER_AGENT})
    digest = hashlib.sha256()
    received = 0
    with urllib.request.urlopen(request, timeout=timeout) as response, open(partial, "wb") as out:
        expected = response.headers.get("Content-Length")
        while chunk := response.read(_CHUNK):
            digest.update(chunk)
            out.write(chunk)
            received += len(chunk)
        out.flush()
        os.fsync(out.fileno())
    if expected is not None and received != int(expected):
        raise http.client.IncompleteRead(b"", int(expected) - received)
    return digest.hexdigest()


def download_file(file: RemoteFile, folder: str | os.PathLike, mirrors: Sequence[str],
                  timeout: float = 30.0) -> Path:
    """Download ``file`` into ``folder`` from the first mirror that serves it with the right
    SHA-256; return its path. Raises ``DataError`` listing every mirror's failure."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / file.name
    partial = folder / (file.name + ".partial")
    failures = []
    for mirror in mirrors:
        url = mirror.rstrip("/") + "/" + file.name
        try:
            digest = _fetch_one(url, partial, timeout)
        except urllib.error.HTTPError as exc:
            failures.append(f"{url}: HTTP {exc.code} {exc.reason}")
        except http.client.IncompleteRead as exc:
            failures.append(f"{url}: truncated download ({exc.expected} bytes missing)")
        except (urllib.error.URLError, http.client.HTTPException, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            failures.append(f"{url}: {type(exc).__name__}: {reason}")
        else:
            if digest == file.sha256:
                os.replace(partial, target)
                return target
            failures.append(f"{url}: SHA-256 {digest} does not match the expected {file.sha256}")
        finally:
            partial.unlink(missing_ok=True)
    raise DataError(
        hint(
            f"could not download {file.name}: " + "; ".join(failures or ["no mirrors given"]),
            f"check the network, or put {file.name} (SHA-256 {file.sha256}) in {folder} by hand",
        )
    )


def ensure_files(files: Sequence[RemoteFile], folder: str | os.PathLike, mirrors: Sequence[str],
                 download: bool = True, dataset: str = "dataset",
                 timeout: float = 30.0) -> dict[str, Path]:
    """Make sure every file is in ``folder`` with its SHA-256, downloading what is missing or
    damaged (when ``download``). Returns ``{name: path}``; raises one ``DataError`` that names
    every file still missing, the folder to put them in, and the URLs to get them from."""
    folder = Path(folder)
    paths, problems = {}, []
    for file in files:
        path = folder / file.name
        if path.exists():
            digest = sha256_file(path)
            if digest == file.sha256:
                paths[file.name] = path
                continue
            reason = f"{path} is damaged (SHA-256 {digest}, expected {file.sha256})"
        else:
            reason = f"{path} is missing"
        if not download:
            problems.append(reason)
            continue
        try:
            paths[file.name] = download_file(file, folder, mirrors, timeout=timeout)
        except DataError as exc:
            problems.append(f"{reason} and the download failed ({str(exc).split('; help:')[0]})")
    if problems:
        missing = [f for f in files if f.name not in paths]
        listing = ", ".join(f"{f.name} (SHA-256 {f.sha256})" for f in missing)
        sources = " or ".join(m.rstrip("/") + "/" for m in mirrors) or "the dataset's website"
        raise DataError(
            hint(
                f"{dataset}: " + "; ".join(problems),
                f"when offline, download {listing} from {sources} and put them in {folder} "
                f"(or set GROUNDUP_DATA to a folder that has them)"
                + ("" if download else "; or pass download=True"),
            )
        )
    return paths
