"""What a system may read for a task: the task's declared inputs and, on a text track, the text of that
track. Baselines, the chat-model runner and the task configs all take their rows from here, so an
undeclared column is never in reach."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..threads import render
from .tasks import SO_POSTS, Task, TaskError, post_items

if TYPE_CHECKING:
    import polars as pl

    from ..release import Release

TEXT = "text"  # the rendered text of the chosen track, in the rows a text system reads
NO_TEXTS = ("this release has no issue texts; build it with `cvreeng-bench build --with-text CACHE` after "
            "`cvreeng-bench hydrate`")


def track_text(title: str | None, body: str | None, comments: list[str] | None) -> str:
    """The text a system of a track reads: title and body, then the comments when the track has them."""
    return render(title or "", body or "", comments or [])


def inputs(task: Task, release: Release, track: str) -> pl.DataFrame:
    """issue_id, the task's declared inputs and, for a text track, ``text``: nothing else."""
    import polars as pl

    fields = task.text_fields(track)
    if task.source == SO_POSTS:  # a post carries its inputs and its one text itself
        posts = post_items(release.frame("so_posts"))
        return posts.select("issue_id", *task.inputs, *([pl.col("text").alias(TEXT)] if fields else []))
    frame = release.frame("issues").select("issue_id", *task.inputs)
    if not fields:
        return frame
    if not release.has("issue_texts"):
        raise TaskError(NO_TEXTS)
    texts = release.frame("issue_texts")
    rendered = [track_text(t, b, c if "comments" in fields else None)
                for t, b, c in texts.select("title", "body", "comments").rows()]
    return frame.join(pl.DataFrame({"issue_id": texts["issue_id"], TEXT: rendered}), on="issue_id", how="left")
