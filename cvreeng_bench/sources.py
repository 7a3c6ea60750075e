"""Stage 1, sources: find the authors' pinned artifact files and verify them before anything reads them.

Resolution order: an explicit ``--upstream`` (folder or base URL), ``$CVREENG_UPSTREAM``, the local
download cache, then the pinned raw.githubusercontent.com URLs. Downloads go to a temporary file and are
moved into the cache only after their sha256 matched, so the cache never holds a partial or wrong file.
"""

from __future__ import annotations

import hashlib
import os
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from .errors import CvreengError

UPSTREAM_REPO = "Wenxin-Jiang/EMSE-CVReengineering-Artifact"
UPSTREAM_COMMIT = "4cb1d7ee2e87d2fd11798b8e6822725de7f42de4"
UPSTREAM_DATE = "2023-08-25"
RAW_BASE_URL = f"https://raw.githubusercontent.com/{UPSTREAM_REPO}/{UPSTREAM_COMMIT}/"
ENV_VAR = "CVREENG_UPSTREAM"
DOWNLOAD_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class SourceFile:
    key: str
    path: str  # relative to the repository root at the pinned commit
    sha256: str
    description: str

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]


FILES: tuple[SourceFile, ...] = (
    SourceFile("defects", "Defect-study/CV_Reengineeirng_Defects.csv",
               "17d4d6727d74d3c36536441abf0632bbcea45065a28214c05e31872911974592",
               "348 labeled reengineering defects"),
    SourceFile("non_reengineering", "Defect-study/Non_Reengineering_Defects.csv",
               "f93fc04482e321dbf4bc84fd48eacae5f220affcc721d7d19c41d83fade6ff5a",
               "93 sampled issues without a reengineering defect"),
    SourceFile("agreement", "Defect-study/Cohen's Kappa Calculation.xlsx",
               "b9815aeec550223c53b8838a45355e24545a7206deb96bfb0155617fd1dbb325",
               "two raters' independent labels"),
)


# The one line every command that needs the artifact and cannot get it ends with.
GUIDANCE = (f"supply the pinned artifact one of three ways: --upstream DIR (a local copy), {ENV_VAR}=DIR, "
            "or a network connection to raw.githubusercontent.com (downloaded once into the cache)")


class SourceError(CvreengError):
    """The upstream files cannot be found, fetched or trusted."""


class UnavailableError(SourceError):
    """The artifact is neither local nor downloadable here (offline, or a mirror path that is not there)."""


@dataclass(frozen=True)
class Upstream:
    """Verified local paths of the three artifact files, and where they came from."""

    paths: dict[str, Path]
    origin: str
    verified: bool
    sha256: dict[str, str] = field(default_factory=dict)

    def __getitem__(self, key: str) -> Path:
        return self.paths[key]


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def cache_dir() -> Path:
    """Where downloads and default releases live: $CVREENG_CACHE, else the XDG cache folder."""
    if os.environ.get("CVREENG_CACHE"):
        return Path(os.environ["CVREENG_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "cvreeng-bench"


def _local_root(folder: Path) -> Path | None:
    """The folder under which the files' relative paths resolve, accepting any sensible mirror level."""
    candidates = [
        folder,
        folder / UPSTREAM_COMMIT,
        folder / "EMSE-CVReengineering-Artifact" / UPSTREAM_COMMIT,
        folder / "upstream" / "EMSE-CVReengineering-Artifact" / UPSTREAM_COMMIT,
    ]
    if folder.name == "Defect-study":
        candidates.insert(0, folder.parent)
    for root in candidates:
        if all((root / f.path).is_file() for f in FILES):
            return root
    return None


def _verify(paths: dict[str, Path], *, verify: bool, origin: str) -> Upstream:
    actual = {f.key: sha256_of(paths[f.key]) for f in FILES}
    mismatches = [f for f in FILES if actual[f.key] != f.sha256]
    if mismatches and verify:
        lines = [
            f"{paths[f.key]}: sha256 mismatch\n  expected {f.sha256}\n  actual   {actual[f.key]}"
            for f in mismatches
        ]
        raise SourceError(
            "upstream files do not match the pinned commit "
            f"{UPSTREAM_COMMIT[:10]}:\n" + "\n".join(lines) + "\n(use --no-verify to build from a modified copy)"
        )
    for f in mismatches:
        print(f"warning: {paths[f.key]} differs from the pinned file (--no-verify); the release records "
              f"sha256 {actual[f.key]}", file=sys.stderr)
    return Upstream(paths, origin, verified=not mismatches, sha256=actual)


def _download(url: str, target: Path, expected: str | None, *, timeout: float, progress: bool) -> None:
    from tqdm import tqdm

    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".part")
    digest = hashlib.sha256()
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response, partial.open("wb") as out:
            total = int(response.headers.get("Content-Length") or 0) or None
            with tqdm(total=total, unit="B", unit_scale=True, desc=target.name, disable=not progress,
                      leave=False) as bar:
                for block in iter(lambda: response.read(1 << 16), b""):
                    out.write(block)
                    digest.update(block)
                    bar.update(len(block))
    except (urllib.error.URLError, TimeoutError, OSError) as error:
        partial.unlink(missing_ok=True)
        if isinstance(error, urllib.error.HTTPError):  # the server answered: not an offline problem
            raise SourceError(f"cannot download {url}: HTTP {error.code} {error.reason}") from error
        reason = getattr(error, "reason", None) or error
        raise UnavailableError(f"cannot download {url} ({reason}); {GUIDANCE}") from error
    if expected is not None and digest.hexdigest() != expected:
        partial.unlink(missing_ok=True)
        raise SourceError(f"{url}: sha256 mismatch\n  expected {expected}\n  actual   {digest.hexdigest()}")
    partial.replace(target)


def fetch(base_url: str, dest: Path, *, verify: bool = True, timeout: float = DOWNLOAD_TIMEOUT_S,
          progress: bool = True) -> Path:
    """Download the three files from ``base_url`` (ending in the commit folder) into ``dest``."""
    base = base_url if base_url.endswith("/") else base_url + "/"
    for f in FILES:
        target = dest / f.path
        if target.is_file() and sha256_of(target) == f.sha256:
            continue
        url = base + urllib.request.pathname2url(f.path)
        _download(url, target, f.sha256 if verify else None, timeout=timeout, progress=progress)
    return dest


def resolve(upstream: str | os.PathLike[str] | None = None, *, verify: bool = True,
            progress: bool = True) -> Upstream:
    """Find, fetch if needed, and verify the pinned artifact files."""
    explicit = str(upstream) if upstream is not None else os.environ.get(ENV_VAR) or None
    label = "--upstream" if upstream is not None else f"${ENV_VAR}"
    if explicit and explicit.startswith(("http://", "https://")):
        dest = cache_dir() / "upstream" / hashlib.sha256(explicit.encode()).hexdigest()[:16]
        root = fetch(explicit, dest, verify=verify, progress=progress)
        return _verify({f.key: root / f.path for f in FILES}, verify=verify, origin=explicit)
    if explicit:
        folder = Path(explicit).expanduser()
        root = _local_root(folder)
        if root is None:
            missing = ", ".join(f.path for f in FILES if not (folder / f.path).is_file())
            raise UnavailableError(f"{label}={folder}: no upstream mirror there (looked for {missing}, also under "
                                   f"EMSE-CVReengineering-Artifact/{UPSTREAM_COMMIT}/); {GUIDANCE}")
        return _verify({f.key: root / f.path for f in FILES}, verify=verify, origin=str(root))
    cached = cache_dir() / "upstream" / UPSTREAM_COMMIT
    if all((cached / f.path).is_file() for f in FILES):
        return _verify({f.key: cached / f.path for f in FILES}, verify=verify, origin=str(cached))
    fetch(RAW_BASE_URL, cached, verify=True, progress=progress)
    return _verify({f.key: cached / f.path for f in FILES}, verify=verify, origin=RAW_BASE_URL)
