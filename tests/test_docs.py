"""The documentation site builds without a warning, and the tutorial works as written.

``mkdocs build --strict`` fails on a broken link, a missing page or an anchor that does not
exist. The tutorial's app, commands and snippets are taken from ``docs/tutorial.md`` itself
and run against real processes: the app, ``atsim serve``, ``atsim call``, the official SDK,
``atsim verify`` and pytest with the kit's fixtures. Only the ports differ (free ones), and
the simulator runs on its virtual clock (``--speed fast``). The pages' generated parts (the
README's sections, the rules' severities) and the ActionXML page's ``atsim lint`` example
are checked too.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from at_voice_kit.contracts.actionxml import RULE_VERDICTS
from tests.e2e.processes import free_port, running
from tests.simulator.atsim_process import atsim_command

ROOT = Path(__file__).resolve().parents[1]
TUTORIAL = ROOT / "docs" / "tutorial.md"
VERIFY = ROOT / "docs" / "verify.md"
SIMULATOR = ROOT / "docs" / "simulator.md"
ACTIONXML = ROOT / "docs" / "actionxml.md"
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.MULTILINE | re.DOTALL)


def blocks(language: str = "") -> list[str]:
    """The tutorial's fenced blocks in ``language`` (``""``: shell), in page order."""
    text = TUTORIAL.read_text(encoding="utf-8")
    return [body for lang, body in FENCE.findall(text) if lang == language]


def command(starting: str) -> list[str]:
    """The tutorial's shell command that starts with ``starting``, as argv (continuations
    joined, comments dropped)."""
    for block in blocks():
        for line in block.replace("\\\n", " ").splitlines():
            if line.startswith(starting):
                return shlex.split(line.split("#")[0])
    raise AssertionError(f"no command starting {starting!r} in the tutorial")


def run(argv: list[str], cwd: Path, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
    )


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The documentation site, built by ``mkdocs build --strict`` (asserted to succeed)."""
    site_dir = tmp_path_factory.mktemp("site")
    built = run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site_dir)],
        cwd=ROOT,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    return site_dir


def test_the_site_builds_without_a_warning(site: Path) -> None:
    for page in ("tutorial", "simulator", "verify", "fidelity", "service", "operations"):
        assert (site / page / "index.html").is_file(), page


def test_the_home_page_shows_the_readmes_sections(site: Path) -> None:
    home = (site / "index.html").read_text(encoding="utf-8")
    assert "<!-- README:" not in home
    assert "No telephone network, no real voices" in home  # the README's limits
    assert "pip install -e '.[test,postgres]' &amp;&amp; python -m pytest" in home


def test_the_fidelity_page_gives_every_rules_severity(site: Path) -> None:
    """The verdict model's table is the code's: every rule, with its severity, once."""
    page = (site / "fidelity" / "index.html").read_text(encoding="utf-8")
    section = page.split('id="the-verdict-models-rules"', 1)[1]
    rows = re.findall(r"<tr>\s*<td><code>([\w-]+)</code></td>\s*<td>(\w+)</td>", section)
    listed = dict(rows)
    assert len(rows) == len(listed), "a rule is listed twice"
    assert listed == {str(rule): str(v.severity) for rule, v in RULE_VERDICTS.items()}


@pytest.fixture(scope="module")
def tutorial(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str, str]]:
    """The tutorial's app and simulator, running: (directory, app URL, simulator URL)."""
    work = tmp_path_factory.mktemp("tutorial")
    (app_source,) = [block for block in blocks("python") if block.startswith("# myapp.py")]
    app_port, sim_port = free_port(), free_port()
    (work / "myapp.py").write_text(app_source.replace("8000", str(app_port)), encoding="utf-8")
    serve = command("atsim serve")
    serve = [
        *atsim_command(),
        *[arg.replace(":8000", f":{app_port}") for arg in serve[1:]],
        "--port", str(sim_port), "--speed", "fast",
    ]  # fmt: skip
    app_url, sim_url = f"http://127.0.0.1:{app_port}", f"http://127.0.0.1:{sim_port}"
    with (
        running(
            [sys.executable, str(work / "myapp.py")],
            env={}, url=app_url, ready_path="/", log_path=work / "app.log",
        ),
        running(
            serve, env={}, url=sim_url, ready_path="/_simulator/health", log_path=work / "sim.log"
        ),
    ):  # fmt: skip
        yield work, app_url, sim_url


def test_atsim_call_reaches_the_app_and_exits_0(tutorial: tuple[Path, str, str]) -> None:
    work, _, sim_url = tutorial
    call = command("atsim call")
    done = run([*atsim_command(), *call[1:], "--url", sim_url], cwd=work)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "dtmfDigits=1" in done.stdout and "Completed/Success" in done.stdout


def test_the_official_sdk_places_the_same_call(tutorial: tuple[Path, str, str]) -> None:
    work, _, sim_url = tutorial
    (snippet,) = [block for block in blocks("python") if "africastalking.initialize" in block]
    script = snippet.replace("http://127.0.0.1:5001", sim_url)
    done = run([sys.executable, "-c", script], cwd=work)
    assert done.returncode == 0, done.stderr
    status, session_id = done.stdout.split()
    assert status == "Queued" and session_id.startswith("ATVId_")
    show = command("atsim show")
    assert show[2:] == ["SESSION_ID"], show
    shown = run([*atsim_command(), "show", session_id, "--url", sim_url], cwd=work)
    assert shown.returncode == 0, shown.stdout + shown.stderr
    assert session_id in shown.stdout and "+254711082002" in shown.stdout


def test_atsim_version_answers() -> None:
    version = command("atsim --version")
    done = run([*atsim_command(), *version[1:]], cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("atsim (at-voice-kit) ")


def test_atsim_verify_is_green(tutorial: tuple[Path, str, str]) -> None:
    work, app_url, _ = tutorial
    verify = command("atsim verify")
    argv = [*atsim_command(), *[a.replace("http://127.0.0.1:8000", app_url) for a in verify[1:]]]
    done = run([*argv, "--quick"], cwd=work)  # --quick: the same checks, fewer scenarios
    assert done.returncode == 0, done.stdout[:3000] + done.stderr
    assert done.stdout.startswith("atsim verify: OK")


def test_the_pytest_snippet_passes(tutorial: tuple[Path, str, str]) -> None:
    work, _, _ = tutorial
    (snippet,) = [block for block in blocks("python") if block.startswith("# test_myapp.py")]
    (work / "test_myapp.py").write_text(snippet, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(work)}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_myapp.py"],
        cwd=work, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed" in done.stdout


def test_the_actionxml_pages_lint_example_prints_what_it_shows(tmp_path: Path) -> None:
    """The page's ``$ echo '...' | atsim lint -`` prints the lines below it, and exits 1."""
    text = ACTIONXML.read_text(encoding="utf-8")
    (example,) = [b for lang, b in FENCE.findall(text) if b.startswith("$ echo ")]
    typed, *shown = example.splitlines()
    echo, lint = typed.removeprefix("$ ").split(" | ")
    (document,) = shlex.split(echo)[1:]
    done = subprocess.run(
        [*atsim_command(), *shlex.split(lint)[1:]],
        input=document + "\n", cwd=tmp_path, capture_output=True, text=True, timeout=60,
        check=False,
    )  # fmt: skip
    assert done.returncode == 1, done.stdout + done.stderr
    assert done.stdout.splitlines() == shown


def test_the_actionxml_pages_builder_example_writes_what_it_shows() -> None:
    """The page's Python example runs, and ``xml`` starts as its comment shows."""
    text = ACTIONXML.read_text(encoding="utf-8")
    (example,) = [b for lang, b in FENCE.findall(text) if lang == "python"]
    (shown,) = re.findall(r"^# '(.*)\.\.\.'$", example, re.MULTILINE)
    done = run([sys.executable, "-c", example + "\nprint(xml)"], cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(shown), done.stdout
    assert '<GetDigits numDigits="1" timeout="10"' in done.stdout


MYAPP = """
from urllib.parse import parse_qs


def create_app():
    \"\"\"A menu that records a message: press 1, talk, hear thanks.\"\"\"

    def app(environ, start_response):
        size = int(environ.get("CONTENT_LENGTH") or 0)
        form = {k: v[0] for k, v in parse_qs(environ["wsgi.input"].read(size).decode()).items()}
        if environ["PATH_INFO"] == "/events":
            body = "OK"
        elif form.get("isActive") == "0":
            body = ""
        elif "recordingUrl" in form:
            body = "<Response><Say>Thanks for your message.</Say></Response>"
        elif form.get("dtmfDigits") == "1":
            body = '<Response><Record maxLength="10"><Say>Speak now</Say></Record></Response>'
        else:
            body = '<Response><GetDigits numDigits="1"><Say>Press 1</Say></GetDigits></Response>'
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [body.encode()]

    return app
"""
"""The app the simulator page's fixture example imports (``from myapp import create_app``)."""


def run_page_tests(work: Path, files: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Write ``files`` into ``work`` and run pytest there, as a project using the kit would."""
    for name, text in files.items():
        (work / name).write_text(text, encoding="utf-8")
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *files],
        cwd=work, env={**os.environ, "PYTHONPATH": str(work)}, capture_output=True, text=True,
        timeout=300, check=False,
    )  # fmt: skip


def test_the_verify_pages_pytest_example_passes(tmp_path: Path) -> None:
    """The ``atsim_verify`` example runs as written: in-process, another layout, a URL."""
    text = VERIFY.read_text(encoding="utf-8")
    (example,) = [b for lang, b in FENCE.findall(text) if lang == "python" and "atsim_verify" in b]
    done = run_page_tests(tmp_path, {"test_webhooks.py": example})
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr
    assert "2 passed" in done.stdout


def test_the_simulator_pages_fixture_example_passes(tmp_path: Path) -> None:
    """The ``at_simulator`` example runs as written against an app of the kind it names."""
    text = SIMULATOR.read_text(encoding="utf-8")
    (example,) = [b for lang, b in FENCE.findall(text) if lang == "python" and "at_simulator" in b]
    done = run_page_tests(tmp_path, {"myapp.py": MYAPP, "test_menu.py": example})
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr
    assert "1 passed" in done.stdout
