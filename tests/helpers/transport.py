"""An httpx transport that records what it was asked to send (for fetcher tests)."""

from __future__ import annotations

import httpx

__all__ = ["RecordingTransport"]


class RecordingTransport(httpx.HTTPTransport):
    """A real transport that remembers every request it was asked to send."""

    def __init__(self) -> None:
        super().__init__()
        self.requests: list[httpx.Request] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return super().handle_request(request)
