"""The README's examples, run: what it shows is what the program does."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys

import pytest

from mockorigin.format.loader import load_text

from tests.helpers import ROOT, require_program
from tests.helpers import journal_entry, marker

README = (ROOT / "README.md").read_text()


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, re.S)


def console_block(containing: str) -> str:
    (block,) = [b for b in blocks("console") if containing in b]
    return block


def test_readme_gives_the_two_setup_commands():
    setup = blocks("sh")[0]
    assert "make serve" in setup and "make test" in setup


@pytest.mark.parametrize("text", blocks("yaml"))
def test_yaml_examples_load(text):
    assert load_text(text, "README.md")


def curl_lines(block: str) -> list[tuple[list[str], str]]:
    lines = []
    for line in block.splitlines():
        if line.startswith("$ curl"):
            command, _, comment = line[2:].partition("#")
            lines.append((shlex.split(command), comment))
    return lines


@pytest.mark.e2e
def test_try_it_commands_succeed(catalogue_server):
    require_program("curl")
    commands = curl_lines(console_block("continue/delayed?delay=1s"))
    assert len(commands) >= 7
    for argv, _ in commands:
        argv = [arg.replace("http://127.0.0.1:8080", catalogue_server.url) for arg in argv]
        result = subprocess.run(argv + ["-sS", "-o", "/dev/null", "-w", "%{http_code}"], capture_output=True, text=True, timeout=30)
        assert result.returncode == 0 and result.stdout.startswith(("200", "413")), (argv, result.stderr)


@pytest.mark.e2e
def test_bad_ending_commands_end_as_documented(catalogue_server):
    require_program("curl")
    commands = curl_lines(console_block("reset/after-headers"))
    assert len(commands) == 3
    for argv, comment in commands:
        expected = int(re.search(r"curl: \((\d+)\)", comment).group(1))
        argv = [arg.replace("http://127.0.0.1:8080", catalogue_server.url).replace("-m 2", "-m 0.5") for arg in argv]
        argv = [a if a != "2" else "0.5" for a in argv]
        result = subprocess.run(argv + ["-sS", "-o", "/dev/null"], capture_output=True, text=True, timeout=30)
        assert result.returncode == expected, (argv, result.stderr)


@pytest.mark.e2e
def test_websocket_command_line_example(catalogue_server):
    (line,) = console_block("python -m websockets").strip().splitlines()
    mark = marker()
    url = line[2:].replace("ws://127.0.0.1:8080", catalogue_server.url.replace("http://", "ws://")) + f"?m={mark}"
    argv = shlex.split(url)
    argv[0] = sys.executable
    result = subprocess.run(argv, input="hello there\n", capture_output=True, text=True, timeout=30)
    assert result.returncode == 0 and "Connection closed: 1000" in result.stdout
    frames = journal_entry(catalogue_server, mark)["websocket"]["frames"]
    assert {"dir": "in", "opcode": "text", "length": 11} in [{k: f[k] for k in ("dir", "opcode", "length")} for f in frames]
    assert {"dir": "out", "opcode": "text", "length": 11} in [{k: f[k] for k in ("dir", "opcode", "length")} for f in frames]


def test_check_transcript_matches_the_program():
    transcript = console_block("$ mockorigin check").strip().splitlines()
    assert transcript[0] == "$ mockorigin check tests/data/broken"
    result = subprocess.run([sys.executable, "-m", "mockorigin", "check", "tests/data/broken"], capture_output=True, text=True, cwd=ROOT, timeout=60)
    actual = result.stderr.splitlines()
    shown = [line for line in transcript[1:] if line != "..."]
    assert all(line in actual for line in shown), set(shown) - set(actual)
    assert actual[-1] == transcript[-1] and result.returncode == 2


def shape(value):
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    return type(value).__name__ if value is not None else None


@pytest.mark.e2e
def test_journal_example_has_the_shape_of_a_real_entry(catalogue_server):
    require_program("curl")
    example = json.loads(blocks("json")[0])
    mark = marker()
    subprocess.run(
        ["curl", "-sS", "-H", "Expect: 100-continue", "--expect100-timeout", "3", "--data-binary", "hello", f"{catalogue_server.url}/continue/delayed?delay=100ms&m={mark}"],
        capture_output=True, timeout=30, check=True,
    )
    real = journal_entry(catalogue_server, mark)
    assert set(example) == set(real)
    for key in ("request", "times", "ended", "facts"):
        assert set(example[key]) == set(real[key]), key


def test_every_documented_option_exists():
    usage = re.search(r"```\nmockorigin serve.*?```", README, re.S).group(0)
    options = set(re.findall(r"(--[a-z-]+)", usage))
    for command in ("serve", "check", "list", "stop", "schema", "proxy-check", "client-check", None):
        argv = [sys.executable, "-m", "mockorigin", *([command] if command else []), "--help"]
        help_text = subprocess.run(argv, capture_output=True, text=True, cwd=ROOT, timeout=60).stdout
        options -= set(re.findall(r"(--[a-z-]+)", help_text))
    assert options == set()


@pytest.mark.e2e
def test_python_control_example_runs(server, tmp_path):
    import shutil

    started = server()
    shutil.copy(started.log_path.parent / "ready.json", tmp_path / "ready.json")
    shutil.copy(ROOT / "behaviours" / "continue-delayed.yaml", tmp_path / "my-behaviours.yaml")
    (code,) = [b for b in blocks("python") if not b.startswith("# file:")]
    result = subprocess.run([sys.executable, "-W", "error", "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def file_blocks() -> dict[str, str]:
    """README blocks that start with `# file: NAME` or `// file: NAME`."""
    found = {}
    for text in re.findall(r"```[a-z]+\n(.*?)```", README, re.S):
        first = text.split("\n", 1)[0]
        match = re.fullmatch(r"(?:#|//) file: (\S+)", first)
        if match:
            found[match.group(1)] = text
    return found


def with_venv_path() -> dict[str, str]:
    return {**os.environ, "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"]}


def test_every_suite_example_is_here():
    assert set(file_blocks()) == {"test_my_client.py", "client-test.sh", "client.test.mjs", "origin_test.go"}


@pytest.mark.e2e
def test_pytest_example_passes(pytester):
    require_program("curl")
    pytester.makepyfile(test_my_client=file_blocks()["test_my_client.py"])
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-W", "error", timeout=120)
    result.assert_outcomes(passed=3)


@pytest.mark.e2e
def test_shell_example_passes(tmp_path):
    require_program("curl")
    script = tmp_path / "client-test.sh"
    script.write_text(file_blocks()["client-test.sh"])
    result = subprocess.run(["bash", str(script)], capture_output=True, text=True, timeout=60, env=with_venv_path(), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("s for the 100") and "ok: curl waited" in result.stdout


@pytest.mark.e2e
def test_node_example_passes(tmp_path):
    node = require_program("node")
    (tmp_path / "client.test.mjs").write_text(file_blocks()["client.test.mjs"])
    result = subprocess.run([node, "--test", "client.test.mjs"], capture_output=True, text=True, timeout=120, env=with_venv_path(), cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "# pass 1" in result.stdout


@pytest.mark.e2e
def test_go_example_passes(tmp_path):
    go = require_program("go")
    (tmp_path / "origin_test.go").write_text(file_blocks()["origin_test.go"])
    env = {**with_venv_path(), "GOPATH": str(tmp_path / "gopath"), "GOCACHE": str(tmp_path / "gocache"), "GOFLAGS": "-mod=mod", "GOPROXY": "off", "GO111MODULE": "on"}
    subprocess.run([go, "mod", "init", "example.test/origin"], check=True, capture_output=True, cwd=tmp_path, env=env, timeout=60)
    result = subprocess.run([go, "test", "-count=1", "./..."], capture_output=True, text=True, timeout=300, env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("ok")


def test_the_catalogue_tables_list_every_entry_in_its_section():
    from mockorigin.format.loader import catalogue_path, load_paths
    from mockorigin.format.model import GROUPS

    for behaviour in load_paths([catalogue_path()]):
        row = f"| `{behaviour.match.path.pattern}` |"
        assert row in README, f"{behaviour.name} is missing from the README's catalogue tables"
        section = README.rindex("#### ", 0, README.index(row))
        title = f"#### {behaviour.group}. {GROUPS[behaviour.group]}" if behaviour.group else "#### Other"
        assert README.startswith(title, section), f"{behaviour.name} is listed outside {title!r}"
