"""The classifier track: any OpenAI-compatible model on a task, against a local server that answers like
the chat-completions API (shapes, 429 with Retry-After, 500, a refused response_format, a slow answer)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from cvreeng_bench.api import open_release
from cvreeng_bench.scoring import tasks
from cvreeng_bench.scoring.runs import path_for as sidecar_path
from cvreeng_bench.scoring.tasks import get
from cvreeng_bench.systems import answers
from cvreeng_bench.systems.chat import RunnerError
from cvreeng_bench.systems.predict import predict
from cvreeng_bench.testing.openai_server import Model, serve
from tests.conftest import cli

ISSUE = re.compile(r"^Issue (\S+)", re.MULTILINE)


def shapes(task: tasks.Task) -> dict[int, str]:
    """One answer shape per remainder: each parses to the issue's first label, except the last (garbage)."""
    return {0: "{label}", 1: '{{"label": "{label}"}}', 2: "{upper}", 3: "I think the answer is {label}, clearly.",
            4: "```json\n{{\"label\": \"{label}\"}}\n```", 5: "no idea, sorry"}


def scripted(task: tasks.Task, gold: dict[str, str]):
    def answer(body: dict) -> str:
        issue = ISSUE.findall(body["messages"][-1]["content"]) or ISSUE.findall(body["messages"][-3]["content"])
        issue_id = issue[-1]
        label = gold[issue_id]
        shape = shapes(task)[sum(map(ord, issue_id)) % 6]
        return shape.format(label=label, upper=label.upper())

    return answer


@pytest.fixture(scope="module")
def texts(text_release: Path):
    return open_release(text_release)


def run(model: Model, task: str, synthetic, out: Path, **options):
    options.setdefault("split", "holdout")
    with serve(model) as url:
        return predict(get(task), synthetic, model="gpt-test", api_url=url, out=out, progress=False, **options)


def test_every_test_issue_gets_a_prediction_or_an_explicit_abstention(texts, tmp_path: Path) -> None:
    task = get("root_cause")
    scored = tasks.items(task, texts, "holdout")
    gold = dict(zip(scored["issue_id"], scored["primary"], strict=True))
    model = Model(answer=scripted(task, gold))
    info = run(model, "root_cause", texts, tmp_path / "p.jsonl")
    rows = [json.loads(line) for line in (tmp_path / "p.jsonl").read_text().splitlines()]
    assert sorted(r["issue_id"] for r in rows) == sorted(gold)
    for row in rows:
        garbage = sum(map(ord, row["issue_id"])) % 6 == 5
        assert row["abstained"] is garbage and row["label"] == ("" if garbage else gold[row["issue_id"]])
        assert len(row["raw"]) == (2 if garbage else 1), "an unreadable answer is asked again once"
    assert info.abstentions == sum(r["abstained"] for r in rows) > 0
    assert info.requests == len(rows) + info.abstentions
    result = cli("evaluate", str(tmp_path / "p.jsonl"), "--task", "root_cause", "--release", str(texts.folder),
                 "--track", "triage", "--format", "json", "--split", "holdout")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["n_abstained"] == info.abstentions


def test_answer_shapes_and_aliases_parse_to_the_right_label() -> None:
    task = get("impact")
    assert answers.parse("Crash", task) == "Crash"
    assert answers.parse('{"label": "crash"}', task) == "Crash"
    assert answers.parse("The program hits Numerical Instability here.", task) == "Numerical error"  # an alias
    assert answers.parse("Hang", task) == tasks.RARE, "a merged label maps to the rare class"
    assert answers.parse("Crash or Hang?", task) is None, "two labels named: no label"
    screening = get("screening")
    assert answers.parse("This is not reengineering.", screening) == "not reengineering"


@pytest.mark.parametrize("answer", ['{"label": "Crash", "label": "Hang"}', '{"answer": {"label": "Crash"}, "label": '
                                    '"Hang"}', 'Sure: {"label": "Crash", "label": "Crash", "label": "Hang"}',
                                    '[{"label": "Crash"}, {"label": "Hang"}]'])
def test_an_answer_that_smuggles_a_second_label_names_none(answer: str) -> None:
    assert answers.parse(answer, get("impact")) is None


def test_a_label_given_twice_the_same_way_in_nested_json_is_still_that_label() -> None:
    assert answers.parse('{"label": "Crash", "why": {"label": "crash"}}', get("impact")) == "Crash"


def test_prompts_carry_definitions_and_the_track_text_and_few_shot_uses_train_issues_only(
        texts, tmp_path: Path) -> None:
    task = get("stage")
    model = Model()
    run(model, "stage", texts, tmp_path / "p.jsonl", prompt="few-shot", shots=4)
    test_ids = set(tasks.items(task, texts, "holdout")["issue_id"])
    body = model.requests[0]
    system = body["messages"][0]["content"]
    assert all(task.definition(label) in system for label in task.labels)
    users = [m["content"] for m in body["messages"] if m["role"] == "user"]
    assert len(users) == 5 and "training crashes" in users[-1], "four examples, then the issue with its text"
    shown = {ISSUE.search(u).group(1) for u in users[:-1]}
    assert not shown & test_ids, "no example comes from the side being predicted"
    assert all("comment 0 on" not in u for m in model.requests for u in
               (x["content"] for x in m["messages"])), "triage prompts hold no comment text"
    full = Model()
    run(full, "stage", texts, tmp_path / "f.jsonl", track="full-thread")
    assert "comment 0 on" in full.requests[0]["messages"][-1]["content"]
    assert body["temperature"] == 0 and "seed" in body and body["response_format"]["type"] == "json_schema"
    enum = body["response_format"]["json_schema"]["schema"]["properties"]["label"]["enum"]
    assert enum == list(task.labels)


def test_a_rerun_with_the_same_settings_makes_no_request(texts, tmp_path: Path) -> None:
    first = run(Model(), "manifestation", texts, tmp_path / "a.jsonl", cache=tmp_path / "cache")
    again = Model()
    second = run(again, "manifestation", texts, tmp_path / "b.jsonl", cache=tmp_path / "cache")
    assert first.requests > 0 and again.completions() == 0 and second.requests == 0
    assert (tmp_path / "a.jsonl").read_text() == (tmp_path / "b.jsonl").read_text()


def test_the_key_goes_to_the_server_only_and_into_no_file(texts, tmp_path: Path, monkeypatch) -> None:
    secret = "sk-test-" + "k3y" * 10
    monkeypatch.setenv("MY_KEY", secret)
    model = Model()
    run(model, "impact", texts, tmp_path / "out" / "p.jsonl", api_key_env="MY_KEY", cache=tmp_path / "out" / "c")
    assert model.headers[0]["Authorization"] == f"Bearer {secret}"
    for path in (tmp_path / "out").rglob("*"):
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), path.name


def test_429_500_a_refused_response_format_and_a_timeout_are_survived(texts, tmp_path: Path) -> None:
    model = Model(failures=[429, 500], refuse_response_format=True, slow_first_s=2.5)
    info = run(model, "reporter", texts, tmp_path / "p.jsonl", timeout=1.0)
    rows = (tmp_path / "p.jsonl").read_text().splitlines()
    assert len(rows) == tasks.items(get("reporter"), texts, "holdout").height
    assert info.structured_output is False and "response_format" not in model.requests[-1]
    assert info.server_model_ids == ("fake-model-2024-06-01",) and info.tokens["total_tokens"] > 0
    sidecar = json.loads(sidecar_path(tmp_path / "p.jsonl").read_text())
    assert sidecar["prompt"] == "zero-shot@v2" and sidecar["cache_key_scheme"] and sidecar["parameters"]


def test_the_cost_guard_stops_the_run_and_a_rerun_resumes_from_the_cache(texts, tmp_path: Path) -> None:
    with pytest.raises(RunnerError, match="--max-requests 5 reached"):
        run(Model(), "impact", texts, tmp_path / "p.jsonl", cache=tmp_path / "c", max_requests=5, concurrency=1)
    resumed = Model()
    info = run(resumed, "impact", texts, tmp_path / "p.jsonl", cache=tmp_path / "c")
    assert info.cached_answers == 5 and resumed.completions() == info.issues - 5


def test_a_release_without_texts_says_how_to_get_them(synthetic_release: Path, tmp_path: Path) -> None:
    result = cli("predict", "--task", "stage", "--model", "m", "--api-url", "http://127.0.0.1:9/v1", "--out",
                 str(tmp_path / "p.jsonl"), "--release", str(synthetic_release))
    assert result.returncode == 2 and "hydrate" in result.stderr and "--with-text" in result.stderr


def test_leaderboard_add_takes_the_run_record(texts, tmp_path: Path) -> None:
    run(Model(), "impact", texts, tmp_path / "p.jsonl", model_cutoff="2024-06-01")
    board = tmp_path / "board.jsonl"
    added = cli("leaderboard", "add", str(tmp_path / "p.jsonl"), "--name", "gpt-test zero-shot", "--board",
                str(board), "--release", str(texts.folder))
    assert added.returncode == 0, added.stderr
    row = json.loads(board.read_text().splitlines()[-1])
    assert (row["task"], row["track"], row["prompt"], row["model_cutoff"]) == ("impact", "triage", "zero-shot@v2",
                                                                               "2024-06-01")
    assert row["contamination_risk"] is True and "gpt-test" in row["notes"]
    shown = cli("prompts", "show", "zero-shot", "--task", "impact", "--release", str(texts.folder))
    assert shown.returncode == 0 and "## system" in shown.stdout and "Labels (choose exactly one)" in shown.stdout
    assert shown.stdout.startswith("# zero-shot@v2 for impact@v3, issue ")
    posts = cli("prompts", "show", "zero-shot", "--task", "so_dl_bugs", "--release", str(texts.folder))
    assert posts.returncode == 0 and posts.stdout.startswith("# zero-shot@v2 for so_dl_bugs@v1, post "), posts.stderr


# Every registered prompt's content hash: a wording change without a new version fails here.
PROMPT_HASHES = {
    "zero-shot@v1": "5b469cefd8538e9f1689b94854d00196499d932233fabbc7aa02b28b0807f276",
    "few-shot@v1": "737d3fb75c9ce6584a4eb49d4fbf0dbfb6861b781226b7d4b2263fca5d48b11f",
    "zero-shot@v2": "9faf1dd33725d0bbdac4ca81c1939307343f9f4b7a9aaf517af52e0b0e26e81b",
    "few-shot@v2": "9b180b69b2c5304fcb601f1ecc1ed27b912b622df577c54443b80267448c749e",
}


def test_every_registered_prompt_keeps_its_content_hash() -> None:
    from cvreeng_bench.systems.prompts import PROMPTS

    registered = {p.key: p.sha256 for name in PROMPTS.names() for p in PROMPTS.versions(name)}
    assert registered == PROMPT_HASHES


def test_two_labels_in_any_form_are_an_abstention() -> None:
    task = get("reporter")
    assert answers.parse('{"label": "Re-user"} {"label": "Adaptor"}', task) is None
    assert answers.parse('{"label": "Re-user"} but it could also be Adaptor', task) is None
    assert answers.parse('The answer: {"label": "Re-user"}', task) == "Re-user"


def test_a_key_in_the_api_url_is_refused_and_an_echoed_key_is_redacted() -> None:
    from cvreeng_bench.systems.chat import ChatClient, redact

    with pytest.raises(RunnerError, match="must not carry credentials"):
        ChatClient("http://user:sk-secretsecret@127.0.0.1:1/v1", None)
    assert redact("the key sk-secretsecret is wrong", "sk-secretsecret") == "the key <redacted> is wrong"


def _set(path: tuple, value: object):
    def reshape(answer: dict) -> dict:
        target = answer
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
        return answer

    return reshape


@pytest.mark.parametrize("reshape", [
    _set(("choices", 0, "message", "content"), 42), _set(("choices", 0, "message", "content"), ["Crash"]),
    _set(("usage",), [1, 2]), _set(("model",), {"name": "x"}), _set(("choices",), "none"), lambda answer: [answer],
], ids=["content-int", "content-list", "usage-list", "model-dict", "choices-text", "a-list"])
def test_a_hostile_completion_shape_is_an_abstention_or_one_line_never_a_traceback(
        texts, tmp_path: Path, reshape) -> None:
    with serve(Model(reshape=reshape)) as url:
        result = cli("predict", "--task", "impact", "--model", "m", "--api-url", url, "--out",
                     str(tmp_path / "p.jsonl"), "--release", str(texts.folder), "--max-requests", "5", "-q")
    assert "Traceback" not in result.stderr
    assert result.returncode in (0, 2), result.stderr
    if result.returncode == 2:
        assert len(result.stderr.strip().splitlines()) <= 3, result.stderr


@pytest.mark.parametrize("retry_after", ["Wed, 21 Oct 2015 07:28:00 GMT", "-1", "nan", "1e9", "soon"])
def test_any_retry_after_a_server_sends_is_survived_or_refused_in_one_line(texts, tmp_path: Path,
                                                                          retry_after: str) -> None:
    with serve(Model(failures=[429], retry_after=retry_after)) as url:
        result = cli("predict", "--task", "impact", "--model", "m", "--api-url", url, "--out",
                     str(tmp_path / "p.jsonl"), "--release", str(texts.folder), "--max-requests", "3", "-q")
    assert "Traceback" not in result.stderr and result.returncode in (0, 2), result.stderr


def test_a_run_record_field_of_the_wrong_type_is_refused_by_its_declared_type() -> None:
    from cvreeng_bench.scoring.runs import RunRecord, RunRecordError

    good = {"task": "stage", "task_version": 3, "split": "fold", "track": "triage", "model": "m",
            "prompt": "zero-shot@v1", "prompt_sha256": "0" * 64, "shots": 0, "predictions_sha256": "1" * 64,
            "date": "2026-12-01", "package_version": "0.2.0", "server_model_ids": ["a", "b"], "api_host": None}
    record = RunRecord.from_dict(good, "r.json")
    assert record.server_model_ids == ("a", "b") and record.api_host is None
    for field, value in (("shots", True), ("shots", "3"), ("api_host", 5), ("parameters", []),
                         ("server_model_ids", "ab"), ("structured_output", 1)):
        with pytest.raises(RunRecordError, match=f"field {field} must be"):
            RunRecord.from_dict({**good, field: value}, "r.json")


@pytest.mark.parametrize("prompt", ["zero-shot", "few-shot"])
def test_every_current_prompt_speaks_of_each_tasks_own_items_and_never_of_counts(texts, prompt: str) -> None:
    """A post is called a post, an issue an issue; no prompt tells the model how many items or which balance."""
    from cvreeng_bench.systems.prompts import PROMPTS, render

    chosen = PROMPTS.get(prompt)
    assert chosen.version >= 2
    for task in tasks.REGISTRY.latest():
        view = tasks_views(task, texts)
        examples = list(zip(view.train, view.labels, strict=True))[: chosen.shots]
        messages = render(chosen, task, view.test[0], examples)
        system, last = messages[0]["content"], messages[-1]["content"]
        posts = task.source.name == "so-posts"
        assert ("Stack Overflow questions" in system) is posts and ("GitHub issues" in system) is not posts, task.key
        assert last.startswith(task.source.item + " "), task.key
        assert task.source.item == ("Post" if posts else "Note" if task.name.startswith("notes_") else "Issue")
        if task.name.startswith("notes_"):
            assert "analysts' notes" in system and "not the issue itself" in system, task.key
        assert task.question and task.question in system, task.key
        for leak in ("100 per class", "600 posts", "334 yes", "93 no", "out-of-fold", "protocol"):
            assert leak not in system, (task.key, leak)


def tasks_views(task, release):
    from cvreeng_bench.scoring.inputs import views

    return views(task, release, task.split, next(t for t in task.tracks if t != "metadata"))[0]


def test_a_huge_answer_names_no_label_and_costs_no_time() -> None:
    import time

    start = time.monotonic()
    assert answers.parse("Crash " + "blah " * 3_000_000, get("impact")) is None
    assert answers.parse('{"label": "Crash"}' + " " * 30_000, get("impact")) is None
    assert time.monotonic() - start < 1


KEY = "sk-echoed-secret-0123456789abcdef"


def _echoing(status: int, body: dict) -> type:
    from http.server import BaseHTTPRequestHandler

    class Echo(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            data = json.dumps(body).encode()
            self.send_response(status, f"bad key {KEY}")
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Echo


@pytest.mark.parametrize("where", ["error message", "error param", "model name", "usage field"])
def test_a_key_the_server_echoes_is_redacted_before_any_cut_wherever_it_lands(where: str) -> None:
    """The key at the very place a 200- or 40-character cut falls: a cut before the redaction would keep half."""
    from cvreeng_bench.systems.chat import ChatClient
    from cvreeng_bench.testing import serving

    padding = "x" * 190
    answer = {"choices": [{"message": {"content": '{"label": "Crash"}'}}], "model": "m",
              "usage": {"prompt_tokens": 1}}
    status, body = 200, answer
    if where == "error message":
        status, body = 400, {"error": {"message": padding + KEY, "type": "invalid_request_error", "param": None}}
    elif where == "error param":
        status, body = 400, {"error": {"message": "bad", "type": "invalid_request_error", "param": "y" * 50 + KEY}}
    elif where == "model name":
        body = {**answer, "model": padding + KEY}
    else:
        body = {**answer, "usage": {"y" * 30 + KEY: 3}}
    with serving(_echoing(status, body)) as url:
        client = ChatClient(url, KEY, timeout=10, backoff=0)
        try:
            found = client.complete("m", [{"role": "user", "content": "hi"}], ("Crash", "Hang"))
            shown = json.dumps([found.content, found.model_id, found.usage])
        except RunnerError as error:
            shown = str(error)
    for fragment in (KEY[:8], KEY[-8:]):
        assert fragment not in shown, shown


def test_a_dead_server_and_a_wrong_out_name_are_said_at_once(texts, tmp_path: Path) -> None:
    import socket
    import time

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    start = time.monotonic()
    out = cli("predict", "--task", "impact", "--model", "m", "--api-url", f"http://127.0.0.1:{port}/v1", "--out",
              str(tmp_path / "p.jsonl"), "--release", str(texts.folder), "-q")
    assert out.returncode == 2 and "no server answers" in out.stderr and time.monotonic() - start < 10
    out = cli("predict", "--task", "impact", "--model", "m", "--api-url", f"http://127.0.0.1:{port}/v1", "--out",
              str(tmp_path / "p.csv"), "--release", str(texts.folder), "-q")
    assert out.returncode == 2 and "name it p.jsonl" in out.stderr and not (tmp_path / "p.csv").exists()
