"""The README's examples, run verbatim and in document order, the way a reader runs them.

Conventions for README.md (every service section follows them; new sections are picked up
without touching this file):

- Fences whose info string starts with ``sh`` (or ``bash``, ``shell``) or ``python`` run; no
  other fence does. Mark a fragment that cannot run on its own (a builder call, a command
  with ``<placeholders>``) ``text`` or with its own language (``java``, ``toml``, ...).
- A ``text output`` fence after a runnable block (the next fence in the document) holds that
  block's exact standard output, which is compared line by line.
- The ``sh`` blocks run as one terminal session: each is a fresh ``bash -e -o pipefail``, but
  the working directory and exported variables of one block carry over to the next block and
  to the ``python`` blocks (run with this interpreter). The session starts in a temporary
  directory that holds only ``examples`` (a link to the repository's, as a reader works from a
  clone) and has no AWS configuration: no ``AWS_*`` variables and no ``~/.aws`` files.
- A block whose command is ``cargo run --release -p freshet -- serve [ARGS]`` (or
  ``freshet serve [ARGS]``) starts ``$FRESHET_BIN serve ARGS`` in the background in the
  session's directory, after stopping (SIGINT, like Ctrl-C) the server an earlier block started,
  and waits until its ports accept connections. Such a command is alone in its block, because a
  reader runs it in a terminal of its own.
- Elsewhere ``cargo run --release -p freshet -- CMD`` runs as ``freshet CMD``, and the
  ``freshet`` on the PATH is ``$FRESHET_BIN`` (what ``cargo install --path crates/freshet``
  gives a reader).
- Commands that build or test the project (``cargo install``, ``cargo build``, ``cargo test``,
  ``cargo bench``, ``scripts/test.sh``, ``.ci/run``, ...) are not run; any other ``cargo``
  command fails the test.
- The README's ports 4567 and 4568 become free ports (the server gets ``--listen`` when its
  block has none, and ``FRESHET_ENDPOINT`` points ``freshet`` client commands at it), so the test
  runs beside a server a developer left running.
- A block that uses a tool of ``OPTIONAL_TOOLS`` that is not installed is skipped (with a
  warning); every other block must exit with status 0 within ``BLOCK_TIMEOUT`` seconds.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import pytest

import kutil

README = kutil.REPO_ROOT / "README.md"
BLOCK_TIMEOUT = 180
SERVER_START_TIMEOUT = 30
# The README's fixed ports, replaced by free ones in every block.
README_PORTS = (4567, 4568)
# Tools a reader may lack; a block using a missing one is skipped instead of failing.
OPTIONAL_TOOLS = {"keytool": "a JDK", "java": "a JDK"}

SHELL_LANGS = {"sh", "bash", "shell"}
FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})\s*(?P<info>[^`]*?)\s*$")
CARGO_RUN_FRESHET = re.compile(r"^cargo\s+run\s+(?:--release\s+)?-p\s+freshet\s+--\s+")
SERVE = re.compile(r"^freshet\s+serve(?:\s+(?P<args>.*))?$")
NOT_RUN = re.compile(
    r"^(?:cargo\s+(?:install|build|test|nextest|bench|clippy|fmt|check|doc)\b"
    r"|(?:bash\s+)?(?:\./)?scripts/test\.sh\b|(?:bash\s+)?(?:\./)?\.ci/run\b)"
)


@dataclass
class Block:
    """One fenced block of the README."""

    line: int  # 1-based line of the opening fence
    info: str
    text: str
    expected_output: str | None = None

    @property
    def lang(self) -> str:
        return self.info.split()[0].lower() if self.info.split() else ""

    @property
    def runs(self) -> bool:
        return self.lang in SHELL_LANGS or self.lang == "python"

    @property
    def is_output(self) -> bool:
        return self.info.split() == ["text", "output"]


@dataclass
class Step:
    """What running one block means: a server start, a script, or nothing."""

    block: Block
    kind: str  # "serve", "sh", "python" or "skip"
    script: str = ""
    serve_args: list[str] = field(default_factory=list)


def parse_blocks(markdown: str) -> list[Block]:
    """Every fenced block, in document order, with `text output` blocks attached to the
    runnable block before them."""
    blocks: list[Block] = []
    lines = markdown.splitlines()
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        fence, indent, start = m["fence"], len(m["indent"]), i
        body: list[str] = []
        i += 1
        while i < len(lines):
            close = FENCE.match(lines[i])
            if close and close["fence"][0] == fence[0] and len(close["fence"]) >= len(fence) \
                    and not close["info"]:
                break
            body.append(lines[i][indent:] if lines[i][:indent].isspace() else lines[i])
            i += 1
        assert i < len(lines), f"README.md:{start + 1}: unclosed fence"
        blocks.append(Block(start + 1, m["info"], "\n".join(body) + "\n"))
        i += 1
    for prev, block in zip(blocks, blocks[1:]):
        if block.is_output:
            assert prev.runs, (f"README.md:{block.line}: a `text output` block must follow a "
                               f"runnable block, not a {prev.info!r} one")
            prev.expected_output = block.text
    return blocks


def logical_lines(script: str) -> list[str]:
    """Shell lines with backslash continuations joined."""
    out: list[str] = []
    pending = ""
    for raw in script.splitlines():
        if raw.rstrip().endswith("\\"):
            pending += raw.rstrip()[:-1] + " "
            continue
        out.append(pending + raw)
        pending = ""
    if pending:
        out.append(pending)
    return out


def remap_ports(text: str, ports: dict[int, int]) -> str:
    for old, new in ports.items():
        text = re.sub(rf"(?<=:){old}\b", str(new), text)
    return text


def plan(block: Block, ports: dict[int, int]) -> Step:
    """Turns a runnable block into a step, following the conventions in the module doc."""
    text = remap_ports(block.text, ports)
    if block.lang == "python":
        return Step(block, "python", script=text)
    kept: list[str] = []
    serve: list[str] | None = None
    for line in logical_lines(text):
        command = CARGO_RUN_FRESHET.sub("freshet ", line.strip())
        if not command or command.startswith("#") or NOT_RUN.match(command):
            continue
        assert not command.startswith("cargo"), (
            f"README.md:{block.line}: `{command}` is neither `cargo run --release -p freshet "
            f"-- ...` nor a build/test command this test knows to skip")
        if m := SERVE.match(command):
            serve = shlex.split(m["args"] or "")
        kept.append(command)
    if serve is not None:
        assert len(kept) == 1, (f"README.md:{block.line}: a block that starts the server must "
                                f"hold only that command (a reader runs it in its own terminal)")
        return Step(block, "serve", serve_args=serve)
    if not kept:
        return Step(block, "skip")
    return Step(block, "sh", script="\n".join(kept) + "\n")


def missing_optional_tool(step: Step) -> str | None:
    words = set(re.findall(r"[A-Za-z0-9_.-]+", step.script))
    for tool, what in OPTIONAL_TOOLS.items():
        if tool in words and shutil.which(tool) is None:
            return f"{tool} ({what})"
    return None


class Session:
    """A reader's terminal: working directory, exported variables, and the server they run."""

    def __init__(self, root: Path, ports: dict[int, int]):
        self.root = root
        self.cwd = root / "home"
        self.cwd.mkdir()
        (self.cwd / "examples").symlink_to(kutil.REPO_ROOT / "examples")
        self.harness = root / "harness"
        self.harness.mkdir()
        self.ports = ports
        bin_dir = self.harness / "bin"
        bin_dir.mkdir()
        (bin_dir / "freshet").symlink_to(kutil.freshet_bin())
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("AWS_", "FRESHET_", "FRESHET__"))}
        env.update({
            "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
            # No developer AWS configuration: the README's exports are all there is.
            "AWS_CONFIG_FILE": str(self.harness / "no-aws-config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(self.harness / "no-aws-credentials"),
            "FRESHET_ENDPOINT": f"http://127.0.0.1:{ports[4567]}",
        })
        self.env = env
        self.server: subprocess.Popen | None = None
        self.server_log = self.harness / "server.log"
        self.outputs: list[tuple[Step, str]] = []

    # The server -------------------------------------------------------------------------

    def start_server(self, step: Step) -> None:
        self.stop_server()
        args = list(step.serve_args)
        if "--listen" not in args and not any(a.startswith("--listen=") for a in args):
            args += ["--listen", f"127.0.0.1:{self.ports[4567]}"]
        log = open(self.server_log, "ab")  # noqa: SIM115 - closed by the child's exit
        log.write(f"\n=== README.md:{step.block.line}: freshet serve {shlex.join(args)}\n".encode())
        log.flush()
        self.server = subprocess.Popen(
            [str(kutil.freshet_bin()), "serve", *args], cwd=self.cwd, env=self.env,
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            preexec_fn=kutil._die_with_parent)
        log.close()
        addrs = [_addr(args[i + 1]) for i, a in enumerate(args[:-1])
                 if a in ("--listen", "--tls-listen")]
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        for host, port in addrs:
            while True:
                assert self.server.poll() is None, self._fail(
                    step, f"the server exited with {self.server.returncode}")
                try:
                    socket.create_connection((host, port), timeout=1).close()
                    break
                except OSError:
                    assert time.monotonic() < deadline, self._fail(
                        step, f"the server did not listen on {host}:{port}")
                    time.sleep(0.05)

    def stop_server(self) -> None:
        if self.server is None:
            return
        if self.server.poll() is None:
            self.server.send_signal(signal.SIGINT)
            try:
                self.server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.server.kill()
                self.server.wait()
        self.server = None

    # Blocks -----------------------------------------------------------------------------

    def run(self, step: Step) -> None:
        if step.kind == "skip":
            return
        if step.kind == "serve":
            self.start_server(step)
            return
        if missing := missing_optional_tool(step):
            warnings.warn(f"README.md:{step.block.line} not run: needs {missing}")
            return
        state = self.harness / f"state-{step.block.line}"
        if step.kind == "python":
            path = self.harness / f"block-{step.block.line}.py"
            path.write_text(step.script)
            argv = [sys.executable, str(path)]
        else:
            path = self.harness / f"block-{step.block.line}.sh"
            # Record where the block left the session, for the next block.
            path.write_text(f"set -eo pipefail\n{step.script}\n"
                            f"pwd > {shlex.quote(str(state))}.cwd\n"
                            f"env -0 > {shlex.quote(str(state))}.env\n")
            argv = ["bash", str(path)]
        try:
            proc = subprocess.run(argv, cwd=self.cwd, env=self.env, stdin=subprocess.DEVNULL,
                                  capture_output=True, text=True, timeout=BLOCK_TIMEOUT)
        except subprocess.TimeoutExpired as e:
            raise AssertionError(self._fail(step, f"timed out after {BLOCK_TIMEOUT} s",
                                            e.stdout, e.stderr)) from None
        assert proc.returncode == 0, self._fail(step, f"exit status {proc.returncode}",
                                                proc.stdout, proc.stderr)
        if step.kind == "sh":
            self.cwd = Path(Path(f"{state}.cwd").read_text().strip())
            env = dict(item.split("=", 1) for item in
                       Path(f"{state}.env").read_text().split("\0") if "=" in item)
            for var in ("_", "SHLVL", "PWD", "OLDPWD"):
                env.pop(var, None)
            self.env = env
        expected = step.block.expected_output
        if expected is not None:
            got = [line.rstrip() for line in proc.stdout.strip("\n").splitlines()]
            want = [line.rstrip() for line in expected.strip("\n").splitlines()]
            assert got == want, self._fail(step, "its output differs from the `text output` "
                                           "block after it", proc.stdout, proc.stderr)
        self.outputs.append((step, proc.stdout))

    def _fail(self, step: Step, what: str, stdout: str | bytes | None = "",
              stderr: str | bytes | None = "") -> str:
        def text(s):
            return s.decode(errors="replace") if isinstance(s, bytes) else (s or "")
        log = self.server_log.read_text(errors="replace") if self.server_log.exists() else ""
        server_tail = "\n".join(log.splitlines()[-30:])
        return (f"README.md:{step.block.line} ({step.block.info} block): {what}\n"
                f"--- as run:\n{step.script or shlex.join(step.serve_args)}"
                f"--- stdout:\n{text(stdout)}\n--- stderr:\n{text(stderr)}\n"
                f"--- server log (tail):\n{server_tail}")


def _addr(value: str) -> tuple[str, int]:
    host, _, port = value.rpartition(":")
    return host.strip("[]") or "127.0.0.1", int(port)


def readme_steps(ports: dict[int, int]) -> list[Step]:
    return [plan(b, ports) for b in parse_blocks(README.read_text()) if b.runs]


def test_the_readme_has_runnable_examples_that_start_a_server_first():
    ports = {p: p for p in README_PORTS}
    steps = readme_steps(ports)
    kinds = [s.kind for s in steps]
    assert "serve" in kinds and "sh" in kinds and "python" in kinds, kinds
    first_use = next(i for i, k in enumerate(kinds) if k in ("sh", "python"))
    assert "serve" in kinds[:first_use], "the README uses a server before it starts one"
    assert any(s.block.expected_output for s in steps), "no `text output` block is checked"


@pytest.mark.timeout(900)
def test_every_readme_example_runs_verbatim_against_a_fresh_server(tmp_path):
    ports = {p: kutil.free_port() for p in README_PORTS}
    session = Session(tmp_path, ports)
    try:
        for step in readme_steps(ports):
            session.run(step)
    finally:
        session.stop_server()
    # The boto3 example reads back the two records it put.
    python_out = "".join(out for step, out in session.outputs if step.kind == "python")
    assert "customer-1 b'hello'" in python_out and "customer-2 b'world'" in python_out, \
        python_out
