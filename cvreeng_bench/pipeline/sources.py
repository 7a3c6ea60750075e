"""Stage 1, sources: find the authors' pinned artifact files and verify them before anything reads them.

Resolution order: an explicit ``--upstream`` (folder or base URL), ``$CVREENG_UPSTREAM``, the local
download cache, then the pinned raw.githubusercontent.com URLs. Downloads go to a temporary file and are
moved into the cache only after their sha256 matched, so the cache never holds a partial or wrong file.
"""

from __future__ import annotations

import hashlib
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

from .. import paper
from ..errors import CvreengError
from ..layout import cache_dir
from ..registry import Registry

ENV_VAR = "CVREENG_UPSTREAM"
DOWNLOAD_TIMEOUT_S = 60.0  # no answer for this long: the download fails
DOWNLOAD_DEADLINE_S = 600.0  # one file, however slowly the server trickles it
MAX_FILE_BYTES = 64 << 20  # far above any pinned file (the largest is 1.6 MB): an endless body is cut off here


@dataclass(frozen=True)
class SourceFile:
    key: str
    path: str  # relative to the repository root at the pinned commit
    sha256: str
    description: str

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class Source:
    """A pinned public artifact: where it lives, which files of it the build reads (with their sha256), its
    license and citation. A local mirror holds ``<mirror>/<repository name>/<commit>/<path>``."""

    name: str
    version: int
    repository: str  # owner/name on GitHub
    commit: str
    date: str  # of the pinned commit
    files: tuple[SourceFile, ...]
    license: str
    citation: str
    required: bool = True  # a build without it fails; an optional source's configs are then absent
    legacy_roots: tuple[str, ...] = ()  # other mirror layouts accepted, relative to the mirror folder

    @property
    def folder(self) -> str:
        return self.repository.rsplit("/", 1)[-1]

    @property
    def raw_base_url(self) -> str:
        return f"https://raw.githubusercontent.com/{self.repository}/{self.commit}/"

    def roots(self, mirror: Path) -> list[Path]:
        """Where the files' relative paths may resolve under a mirror folder, most specific layout first."""
        found = [mirror / self.folder / self.commit, mirror / "upstream" / self.folder / self.commit]
        return found + [mirror / root if root else mirror for root in self.legacy_roots]

    def file(self, key: str) -> SourceFile:
        return next(f for f in self.files if f.key == key)


SOURCES: Registry[Source] = Registry("source")
STUDY = SOURCES.register(Source(
    "study", 1, "Wenxin-Jiang/EMSE-CVReengineering-Artifact", "4cb1d7ee2e87d2fd11798b8e6822725de7f42de4",
    "2023-08-25",
    (SourceFile("defects", "Defect-study/CV_Reengineeirng_Defects.csv",
                "17d4d6727d74d3c36536441abf0632bbcea45065a28214c05e31872911974592",
                "348 labeled reengineering defects"),
     SourceFile("non_reengineering", "Defect-study/Non_Reengineering_Defects.csv",
                "f93fc04482e321dbf4bc84fd48eacae5f220affcc721d7d19c41d83fade6ff5a",
                "93 sampled issues without a reengineering defect"),
     SourceFile("agreement", "Defect-study/Cohen's Kappa Calculation.xlsx",
                "b9815aeec550223c53b8838a45355e24545a7206deb96bfb0155617fd1dbb325", "two raters' independent labels")),
    license="no license file upstream; cite the paper",
    citation="Jiang et al., Challenges and Practices of Deep Learning Model Reengineering: A Case Study on Computer "
             f"Vision, Empirical Software Engineering 29 (2024), doi:{paper.DOI}",
    # Layouts of earlier releases of this package: the commit folder itself, or the folder holding it.
    legacy_roots=("", "4cb1d7ee2e87d2fd11798b8e6822725de7f42de4"),
))
SO_POSTS = SOURCES.register(Source(
    "so-posts", 1, "Simba-brother/DL_bug_classification", "7dd24527eeba06af3e76511154d1eb43c343b221", "2026-04-07",
    (SourceFile("posts", "dataset.csv", "72d1730c93be9d605feda8751aa68da513fb39035505bc71a3dca0fa31f5888c",
                "600 labeled Stack Overflow posts about Keras, TensorFlow and PyTorch"),),
    license="Apache-2.0 (the repository); post texts CC BY-SA from the Stack Exchange data dump",
    citation="Simba-brother/DL_bug_classification (GitHub), dataset.csv at commit 7dd24527, Apache-2.0",
    required=False,
))
# The study's own 2022 analysis workbook, with the analysts' notes; removed from the repository on 2022-03-16, public
# and pinned all the same (the same three text columns are in 132ca941 of 2022-03-04: public since then).
NOTES = SOURCES.register(Source(
    "study-notes", 1, "Wenxin-Jiang/EMSE-CVReengineering-Artifact", "043ea29a025e100fb8da54e4cd19ebdd9998525d",
    "2022-03-07",
    (SourceFile("notes", "Bug Study/CV Reengineering Defects.xlsx",
                "621cdf5414862801cf9703eec9a27743feae79273271060cc32b546e25c1dd90",
                "the 2022 analysis workbook: 264 defect rows with the analysts' notes (Bugs, Comments, Fix)"),),
    license="no license file upstream; cite the paper",
    citation=f"Jiang et al. (EMSE 2024, doi:{paper.DOI}), artifact commit 043ea29a, Bug Study/CV Reengineering "
             "Defects.xlsx",
    required=False,
))
NOTES_PUBLIC_SINCE = "2022-03-04"
# The study's pinned commit, as the rest of the package names it.
UPSTREAM_REPO, UPSTREAM_COMMIT, UPSTREAM_DATE = STUDY.repository, STUDY.commit, STUDY.date
RAW_BASE_URL = STUDY.raw_base_url
FILES: tuple[SourceFile, ...] = STUDY.files


# The one line every command that needs the artifact and cannot get it ends with.
GUIDANCE = (f"supply the pinned artifact one of three ways: --upstream DIR (a local copy), {ENV_VAR}=DIR, "
            "or a network connection to raw.githubusercontent.com (downloaded once into the cache)")


class SourceError(CvreengError):
    """The upstream files cannot be found, fetched or trusted."""


class UnavailableError(SourceError):
    """The artifact is neither local nor downloadable here (offline, or a mirror path that is not there)."""


@dataclass(frozen=True)
class Upstream:
    """Verified local paths of a source's files, and where they came from."""

    paths: dict[str, Path]
    origin: str
    verified: bool
    sha256: dict[str, str] = field(default_factory=dict)
    source: Source = STUDY

    def __getitem__(self, key: str) -> Path:
        return self.paths[key]

    def file_sha256(self) -> dict[str, str]:
        """Each file's path in its repository -> sha256 (as read here, else as pinned): what a manifest records."""
        return {f.path: self.sha256.get(f.key, f.sha256) for f in self.source.files}


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _local_root(folder: Path, source: Source) -> Path | None:
    """The folder under which the source's files resolve, accepting any sensible mirror level."""
    candidates = source.roots(folder)
    if source is STUDY and folder.name == "Defect-study":
        candidates.insert(0, folder.parent)
    for root in candidates:
        if all((root / f.path).is_file() for f in source.files):
            return root
    return None


def _verify(paths: dict[str, Path], *, verify: bool, origin: str, source: Source) -> Upstream:
    actual = {}
    for f in source.files:
        size = paths[f.key].stat().st_size
        if size > MAX_FILE_BYTES:  # refused before it is hashed or parsed
            raise SourceError(f"{paths[f.key]}: {size >> 20} MiB, far larger than the pinned file; refused")
        actual[f.key] = sha256_of(paths[f.key])
    mismatches = [f for f in source.files if actual[f.key] != f.sha256]
    if mismatches and verify:
        lines = [
            f"{paths[f.key]}: sha256 mismatch\n  expected {f.sha256}\n  actual   {actual[f.key]}"
            for f in mismatches
        ]
        raise SourceError(
            f"upstream files do not match the pinned commit {source.commit[:10]} of {source.repository}:\n"
            + "\n".join(lines) + "\n(use --no-verify to build from a modified copy)"
        )
    for f in mismatches:
        print(f"warning: {paths[f.key]} differs from the pinned file (--no-verify); the release records "
              f"sha256 {actual[f.key]}", file=sys.stderr)
    return Upstream(paths, origin, verified=not mismatches, sha256=actual, source=source)


def _download(url: str, target: Path, expected: str | None, *, timeout: float, progress: bool) -> None:
    import http.client  # the network modules load only when something is downloaded
    import time
    import urllib.error
    import urllib.request

    from tqdm import tqdm

    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{os.getpid()}.part")
    digest = hashlib.sha256()
    start, size = time.monotonic(), 0
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response, partial.open("wb") as out:
            try:
                total = int(response.headers.get("Content-Length") or 0) or None
            except ValueError:
                total = None
            if total is not None and total > MAX_FILE_BYTES:
                raise SourceError(f"{url}: the server announces {total} bytes, more than {MAX_FILE_BYTES}; refused")
            with tqdm(total=total, unit="B", unit_scale=True, desc=target.name, disable=not progress,
                      leave=False) as bar:
                for block in iter(lambda: response.read1(1 << 16), b""):  # one receive: the checks run between
                    size += len(block)
                    if size > MAX_FILE_BYTES:
                        raise SourceError(f"{url}: over {MAX_FILE_BYTES} bytes, far more than the pinned file; "
                                          "refused")
                    if time.monotonic() - start > DOWNLOAD_DEADLINE_S:
                        raise SourceError(f"{url}: the download took over {DOWNLOAD_DEADLINE_S:.0f} s; refused")
                    out.write(block)
                    digest.update(block)
                    bar.update(len(block))
    except SourceError:
        partial.unlink(missing_ok=True)
        raise
    except (urllib.error.URLError, TimeoutError, OSError, ValueError, http.client.HTTPException) as error:
        partial.unlink(missing_ok=True)
        if isinstance(error, urllib.error.HTTPError):  # the server answered: not an offline problem
            raise SourceError(f"cannot download {url}: HTTP {error.code} {str(error.reason)[:80]}") from error
        reason = getattr(error, "reason", None) or error
        raise UnavailableError(f"cannot download {url} ({str(reason)[:120]}); {GUIDANCE}") from error
    if expected is not None and digest.hexdigest() != expected:
        partial.unlink(missing_ok=True)
        raise SourceError(f"{url}: sha256 mismatch\n  expected {expected}\n  actual   {digest.hexdigest()}")
    partial.replace(target)


def fetch(base_url: str, dest: Path, *, verify: bool = True, timeout: float = DOWNLOAD_TIMEOUT_S,
          progress: bool = True, source: Source = STUDY) -> Path:
    """Download the source's files from ``base_url`` (ending in the commit folder) into ``dest``."""
    import urllib.request

    base = base_url if base_url.endswith("/") else base_url + "/"
    for f in source.files:
        target = dest / f.path
        if target.is_file() and sha256_of(target) == f.sha256:
            continue
        url = base + urllib.request.pathname2url(f.path)
        _download(url, target, f.sha256 if verify else None, timeout=timeout, progress=progress)
    return dest


def resolve(upstream: str | os.PathLike[str] | None = None, *, verify: bool = True, progress: bool = True,
            source: Source = STUDY) -> Upstream:
    """Find, fetch if needed, and verify a source's pinned files: ``upstream`` (a folder, or for the study a base
    URL), else ``$CVREENG_UPSTREAM``, else the download cache, else the pinned URL. The network is used only
    when no mirror is named at all."""
    explicit = str(upstream) if upstream is not None else os.environ.get(ENV_VAR) or None
    label = "--upstream" if upstream is not None else f"${ENV_VAR}"
    cached = cache_dir() / "upstream" / source.folder / source.commit
    if explicit and explicit.startswith(("http://", "https://")):
        if source is not STUDY:  # a base URL names the study's commit folder; other sources: cache only
            return _cached_or_absent(cached, source, verify, f"{label} is a URL of the study's artifact")
        dest = cache_dir() / "upstream" / hashlib.sha256(explicit.encode()).hexdigest()[:16]
        root = fetch(explicit, dest, verify=verify, progress=progress, source=source)
        return _verify({f.key: root / f.path for f in source.files}, verify=verify, origin=explicit, source=source)
    if explicit:
        folder = Path(explicit).expanduser()
        local = _local_root(folder, source)
        if local is None:
            if (cached_root := _local_root(cached, source)) is not None:
                return _verify({f.key: cached_root / f.path for f in source.files}, verify=verify,
                               origin=str(cached_root), source=source)
            missing = ", ".join(f.path for f in source.files)
            raise UnavailableError(f"{label}={folder}: no mirror of {source.repository} there (looked for {missing} "
                                   f"under {source.folder}/{source.commit[:10]}.../); {GUIDANCE}")
        return _verify({f.key: local / f.path for f in source.files}, verify=verify, origin=str(local),
                       source=source)
    if all((cached / f.path).is_file() for f in source.files):
        return _verify({f.key: cached / f.path for f in source.files}, verify=verify, origin=str(cached),
                       source=source)
    fetch(source.raw_base_url, cached, verify=True, progress=progress, source=source)
    return _verify({f.key: cached / f.path for f in source.files}, verify=verify, origin=source.raw_base_url,
                   source=source)


def _cached_or_absent(cached: Path, source: Source, verify: bool, why: str) -> Upstream:
    if all((cached / f.path).is_file() for f in source.files):
        return _verify({f.key: cached / f.path for f in source.files}, verify=verify, origin=str(cached),
                       source=source)
    raise UnavailableError(f"{source.repository} is not in the download cache and {why}")


def resolve_optional(upstream: str | os.PathLike[str] | None = None, *, verify: bool = True,
                     progress: bool = True) -> tuple[dict[str, Upstream], dict[str, str]]:
    """Every optional source that can be had (name -> files) and, for the others, why not. A file that is
    there but tampered with is refused, never skipped."""
    found, absent = {}, {}
    for source in SOURCES:
        if source.required:
            continue
        try:
            found[source.name] = resolve(upstream, verify=verify, progress=progress, source=source)
        except UnavailableError as error:
            absent[source.name] = str(error).split("; supply")[0]
    return found, absent
