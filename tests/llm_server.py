"""A scripted OpenAI-compatible chat server on 127.0.0.1, for testing the LLM answerer.

    with FakeLLMServer(Reply("Peskov called it warm [1].")) as server:
        settings = Settings(llm="openai-like", llm_base_url=server.base_url, llm_model="m")
        ...
        server.requests[0]["messages"]   # what the answerer sent

Each request takes the next scripted :class:`Reply`; the last one repeats.
``FakeLLMServer(..., drop_system=True)`` behaves like a chat template that silently drops
system messages (llama.cpp's ``gemma`` format): ``requests`` then holds what the model saw.
"""

from __future__ import annotations

import json
import socket
import threading
from dataclasses import dataclass, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["FakeLLMServer", "Reply", "closed_port"]


@dataclass(frozen=True)
class Reply:
    """One scripted response: text (streamed word by word), an HTTP error, a delay, junk."""

    text: str = ""
    status: int = 200
    delay: float = 0.0  # seconds before the response starts (to provoke timeouts)
    malformed: bool = False  # a body that is not valid JSON
    chunk_delay: float = 0.0  # seconds between streamed chunks
    echo: bool = False  # the reply starts with the prompt's user message, as base models do


class FakeLLMServer:
    """``POST /v1/chat/completions``, streaming (SSE) or not, answered from a script."""

    def __init__(self, *replies: Reply | str, drop_system: bool = False) -> None:
        self.requests: list[dict[str, Any]] = []
        self._drop_system = drop_system
        self._replies = [Reply(r) if isinstance(r, str) else r for r in replies] or [Reply()]
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def base_url(self) -> str:
        """The ``/v1`` URL to give as ``llm_base_url``."""
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    def script(self, *replies: Reply | str) -> None:
        """Replace the replies still to come."""
        with self._lock:
            self._replies = [Reply(r) if isinstance(r, str) else r for r in replies]

    def next_reply(self, request: dict[str, Any]) -> Reply:
        if self._drop_system:
            messages = [m for m in request.get("messages", []) if m.get("role") != "system"]
            request = {**request, "messages": messages}
        with self._lock:
            self.requests.append(request)
            return self._replies.pop(0) if len(self._replies) > 1 else self._replies[0]

    def wait(self, seconds: float) -> None:
        """Sleep, but wake up when the server stops (so a delayed reply never blocks exit)."""
        self._stopping.wait(seconds)

    def __enter__(self) -> FakeLLMServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)


def closed_port() -> int:
    """A local port nobody listens on (bound, then released): connecting is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _completion(text: str, model: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": 0,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }


def _chunk(delta: dict[str, str], model: str, finish: str | None = None) -> dict[str, Any]:
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


def _handler_for(server: FakeLLMServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            if self.path.rstrip("/") != "/v1/chat/completions":
                self._send(404, {"error": {"message": f"no route {self.path}"}})
                return
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
            reply = server.next_reply(body)
            if reply.echo:
                users = [m["content"] for m in body["messages"] if m.get("role") == "user"]
                reply = replace(reply, text=(users[-1] if users else "") + reply.text)
            server.wait(reply.delay)
            model = body.get("model", "fake")
            try:
                if reply.status != 200:
                    self._send(reply.status, {"error": {"message": "scripted failure"}})
                elif body.get("stream"):
                    self._stream(reply, model)
                elif reply.malformed:
                    self._send(200, "{not json")
                else:
                    self._send(200, _completion(reply.text, model))
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a timeout test): nothing to do

        def _send(self, status: int, payload: dict[str, Any] | str) -> None:
            data = (payload if isinstance(payload, str) else json.dumps(payload)).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _stream(self, reply: Reply, model: str) -> None:
            # HTTP/1.0 without Content-Length: the body ends when the connection closes.
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            if reply.malformed:
                self._event("{not json")
                return
            words = reply.text.split(" ")
            pieces = [w + " " for w in words[:-1]] + [words[-1]]
            self._event(json.dumps(_chunk({"role": "assistant", "content": ""}, model)))
            for piece in filter(None, pieces):
                server.wait(reply.chunk_delay)
                self._event(json.dumps(_chunk({"content": piece}, model)))
            self._event(json.dumps(_chunk({}, model, finish="stop")))
            self._event("[DONE]")

        def _event(self, data: str) -> None:
            self.wfile.write(f"data: {data}\n\n".encode())
            self.wfile.flush()

    return Handler
