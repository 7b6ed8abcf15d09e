"""Start llama-cpp-python's OpenAI-compatible server with the CPU backend's extra buffer types
off: their AMX kernel segfaulted on some of these VMs (issue 13).

Run with the server's own Python (tests/real_llm.py does), never imported by the tests:

    python llama_launch.py --model M.gguf --host 127.0.0.1 --port 8080 [server options]
"""

from __future__ import annotations

import sys


def _without_extra_buffer_types() -> None:
    import llama_cpp.llama_cpp as native

    original = native.llama_model_default_params

    def patched():  # type: ignore[no-untyped-def]
        params = original()
        if hasattr(params, "use_extra_bufts"):
            params.use_extra_bufts = False
        return params

    native.llama_model_default_params = patched


def main() -> None:
    _without_extra_buffer_types()
    from llama_cpp.server.__main__ import main as serve

    sys.argv = ["llama_cpp.server", *sys.argv[1:]]
    serve()


if __name__ == "__main__":
    main()
