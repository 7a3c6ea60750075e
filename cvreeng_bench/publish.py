"""Push a release folder to the Hugging Face Hub as a dataset repository, tagged ``v<dataset version>``."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import CvreengError
from .layout import HUB_PLACEHOLDER, VIEWS_HF
from .text import redact

if TYPE_CHECKING:
    from .release import Release


class PublishError(CvreengError):
    """The Hub refused or could not be reached."""


def manifest_files(release: Release) -> list[str]:
    """Exactly the files the manifest lists (and the manifest), each a plain file inside the folder: a file the
    manifest does not list (a stray ``.env``) is never uploaded, and a symlink is refused."""
    from .layout import MANIFEST

    listed = release.manifest.files
    if listed is None:
        raise PublishError(f"{release.folder / MANIFEST} lists no files; rebuild the release with this version")
    bad = []
    for name in [*listed, MANIFEST]:
        path = release.folder / name
        if path.is_symlink() or not path.is_file() or not path.resolve().is_relative_to(release.folder):
            bad.append(name)
    if bad:
        raise PublishError(f"refused: {', '.join(b[:80] for b in bad[:5])} in {release.folder} is a link, missing, "
                           "or outside the folder; rebuild the release")
    return sorted([*listed, MANIFEST])


def plan(release: Release, repo_id: str) -> list[str]:
    """What ``publish`` would do, one line per step (the ``--dry-run`` output)."""
    from huggingface_hub.errors import HFValidationError
    from huggingface_hub.utils import validate_repo_id

    if repo_id.count("/") != 1 or not all(repo_id.split("/")):
        raise PublishError(f"--repo-id must be ORG/NAME, got {repo_id!r}")
    try:  # the Hub's own rule (characters, length, no '--' or '..'), checked before anything is sent
        validate_repo_id(repo_id)
    except HFValidationError as error:
        raise PublishError(f"--repo-id {repo_id!r} is not a valid Hub repository id: {error}") from error
    folder, info = release.folder, release.manifest
    files = manifest_files(release)
    size = sum((folder / f).stat().st_size for f in files)
    return [
        f"create dataset repository {repo_id} (if missing)",
        f"upload {len(files)} files ({size / 1024:.0f} KiB) from {folder}:",
        *(f"  {f}" for f in files),
        f"commit message: cvreeng-bench release {info.dataset_version} ({info.content_sha256[:12]})",
        f"tag the commit v{info.dataset_version}",
    ]


def publish(release: Release, repo_id: str, *, token: str | None = None, endpoint: str | None = None,
            private: bool = False) -> str:
    """Create the repository if needed, upload the folder in one commit, tag it; returns the commit URL."""
    from huggingface_hub import HfApi
    from huggingface_hub.errors import HfHubHTTPError, HFValidationError, HTTPError, OfflineModeIsEnabled
    from huggingface_hub.utils import disable_progress_bars
    from huggingface_hub.utils import logging as hub_logging

    plan(release, repo_id)  # validates the id
    # The library's per-file bars and retry chatter would bury the one line that says what happened.
    disable_progress_bars()
    hub_logging.set_verbosity_error()
    folder, info = release.folder, release.manifest
    api = HfApi(endpoint=endpoint, token=token)
    secrets = (token, os.environ.get("HF_TOKEN"), os.environ.get("HUGGING_FACE_HUB_TOKEN"))  # never echoed back
    tag = f"v{info.dataset_version}"
    try:
        api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)
        with tempfile.TemporaryDirectory() as tmp:  # a copy whose views_hf.sql names this repository
            staged = Path(tmp) / folder.name
            for name in manifest_files(release):  # exactly the listed files, copied (never followed) one by one
                (staged / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(folder / name, staged / name, follow_symlinks=False)
            views = staged / VIEWS_HF
            if views.is_file():
                views.write_text(views.read_text("utf-8").replace(HUB_PLACEHOLDER, repo_id), encoding="utf-8")
            commit = api.upload_folder(
                repo_id=repo_id, repo_type="dataset", folder_path=staged,
                commit_message=f"cvreeng-bench release {info.dataset_version} ({info.content_sha256[:12]})")
        api.create_tag(repo_id, tag=tag, repo_type="dataset", revision=commit.oid,
                       tag_message=f"dataset {info.dataset_version}, content sha256 {info.content_sha256}")
    except HfHubHTTPError as error:  # the Hub answered, and said no
        said = " ".join(redact(str(error), *secrets).split())[:500] or type(error).__name__  # the reason, one line
        raise PublishError(f"the Hub refused the upload of {folder} to {repo_id}: {said}") from error
    except HTTPError as error:  # the HTTP client's own errors: no answer at all
        raise PublishError(f"cannot reach the Hub at {api.endpoint}: {redact(str(error), *secrets)[:300]}") from error
    except RuntimeError as error:  # the library wraps a failed LFS upload (a 5xx after its retries) in this
        cause = error.__cause__
        said = " ".join(redact(str(cause), *secrets).split())[:300] if cause is not None else ""
        raise PublishError(f"the upload of {folder} to {repo_id} failed: {redact(str(error), *secrets)[:200]}"
                           + (f" ({said})" if said else "")) from error
    except (OfflineModeIsEnabled, HFValidationError, OSError, ValueError, KeyError) as error:  # offline, bad answer
        raise PublishError(f"cannot publish {folder} to {repo_id}: {redact(str(error), *secrets)[:200]}") from error
    return commit.commit_url
