"""An httpx transport that records what it was asked to send (for fetcher tests)."""

from __future__ import annotations

import ssl
from functools import cache

import httpx

__all__ = ["RecordingTransport"]


@cache
def _ssl_context() -> ssl.SSLContext:
    """httpx's default context (certifi's roots), made once: each one takes ~20 ms to load."""
    return httpx.create_ssl_context()


class RecordingTransport(httpx.HTTPTransport):
    """A real transport that remembers every request it was asked to send."""

    def __init__(self) -> None:
        super().__init__(verify=_ssl_context())
        self.requests: list[httpx.Request] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return super().handle_request(request)
