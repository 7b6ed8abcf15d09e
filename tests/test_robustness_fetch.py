"""Robustness, issue 7 item 5: what tests/test_sources.py does not already cover.

DNS answers are faked (rag.corpus.addresses' resolver is replaced), so no name is ever looked up for
real and the only traffic is to a test server on 127.0.0.1: DNS rebinding (connect to the
address that was checked), names with mixed public/private answers, names resolving to
metadata addresses, odd spellings of 127.0.0.1, redirects to such names or to other schemes,
a gzip bomb and a body without a content type.
"""

from __future__ import annotations

import gzip
import ipaddress
import socket
import threading
import types
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

import rag.corpus.addresses
from helpers.transport import RecordingTransport
from rag.corpus.sources import fetch_page, fetch_sources
from rag.errors import FetchError
from rag.models import Footnote
from rag.settings import Settings

PAGE = (
    "<html><head><title>Velna harbor</title></head><body><article>"
    + "<p>The Velna harbor opened in March 2031 with three deep-water berths for ferries.</p>" * 4
    + "</article></body></html>"
).encode()


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        routes = {
            "/page": (200, {"Content-Type": "text/html; charset=utf-8"}, PAGE),
            "/to-name-private": (302, {"Location": "http://intranet.test/admin"}, b""),
            "/to-name-metadata": (302, {"Location": "http://metadata.test/latest/"}, b""),
            "/to-file": (302, {"Location": "file:///etc/passwd"}, b""),
            "/to-javascript": (302, {"Location": "javascript:alert(1)"}, b""),
            "/to-data": (302, {"Location": "data:text/html,<script>alert(1)</script>"}, b""),
            "/to-mailto": (302, {"Location": "mailto:editor@example.com"}, b""),
            "/to-decimal-loopback": (302, {"Location": "http://2130706433/x"}, b""),
            "/gzip-bomb": (
                200,
                {"Content-Type": "text/html", "Content-Encoding": "gzip"},
                gzip.compress(b"<p>" + b"A" * 2_000_000 + b"</p>"),
            ),
            "/no-type": (200, {}, b"<p>no content type header at all</p>"),
        }
        status, headers, body = routes.get(self.path, (404, {"Content-Type": "text/plain"}, b""))
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def port() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    # Polled every 50 ms, not 0.5 s: shutdown() waits for the next poll.
    serve = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    serve.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


class FakeDNS:
    """Answers for test names; numeric spellings parsed like glibc does; nothing else."""

    def __init__(self, names: dict[str, list[list[str]]]) -> None:
        self.names = names  # name -> successive answers (the last one repeats)
        self.asked: list[str] = []

    def getaddrinfo(self, host: str, port: int, *args: object, **kwargs: object) -> list:
        self.asked.append(host)
        if host in self.names:
            answers = self.names[host]
            addresses = answers[min(self.asked.count(host), len(answers)) - 1]
        else:
            try:
                addresses = [socket.inet_ntoa(socket.inet_aton(host))]  # 2130706433, 127.1 …
            except OSError:
                raise socket.gaierror(socket.EAI_NONAME, "Name or service not known") from None
        return [
            (
                socket.AF_INET6 if ipaddress.ip_address(a).version == 6 else socket.AF_INET,
                socket.SOCK_STREAM,
                6,
                "",
                (a, port),
            )
            for a in addresses
        ]


@pytest.fixture
def dns(monkeypatch: pytest.MonkeyPatch) -> FakeDNS:
    fake = FakeDNS(
        {
            "harbor.test": [["127.0.0.1"]],
            "rebind.test": [["127.0.0.1"], ["10.0.0.1"]],  # first answer checked, then private
            "mixed.test": [["93.184.216.34", "10.0.0.7"]],
            "mixed-loopback.test": [["93.184.216.34", "127.0.0.1"]],
            "intranet.test": [["192.168.1.10"]],
            "metadata.test": [["169.254.169.254"]],
            "v6-loopback.test": [["::1"]],
            "v6-mapped.test": [["::ffff:127.0.0.1"]],
        }
    )
    module = types.SimpleNamespace(getaddrinfo=fake.getaddrinfo, SOCK_STREAM=socket.SOCK_STREAM)
    monkeypatch.setattr(rag.corpus.addresses, "socket", module)  # only the fetcher's resolver
    return fake


@pytest.fixture
def transport() -> RecordingTransport:
    return RecordingTransport()


def _settings(tmp_path: Path, *, loopback: bool) -> Settings:
    return Settings(
        docs_dir=tmp_path / "docs", index_dir=tmp_path / "index", fetch_allow_loopback=loopback,
        fetch_timeout=3, fetch_max_bytes=100_000, fetch_max_redirects=3,
    )  # fmt: skip


def _refusal(url: str, settings: Settings, transport: httpx.BaseTransport) -> str:
    with pytest.raises(FetchError) as caught:
        fetch_page(url, settings, transport=transport)
    return str(caught.value)


def test_a_name_resolving_to_loopback_is_refused_without_the_allowance(
    dns: FakeDNS, transport: RecordingTransport, port: int, tmp_path: Path
) -> None:
    reason = _refusal(
        f"http://harbor.test:{port}/page", _settings(tmp_path, loopback=False), transport
    )
    assert reason == "refused: harbor.test resolves to 127.0.0.1 is a loopback address"
    assert transport.requests == []


def test_a_name_resolving_to_loopback_is_fetched_with_the_allowance(
    dns: FakeDNS, transport: RecordingTransport, port: int, tmp_path: Path
) -> None:
    page = fetch_page(
        f"http://harbor.test:{port}/page", _settings(tmp_path, loopback=True), transport=transport
    )
    assert "three deep-water berths" in page.text
    (sent,) = transport.requests
    assert sent.url.host == "127.0.0.1"  # the checked address, not the name again
    assert sent.headers["host"] == f"harbor.test:{port}"


def test_dns_rebinding_cannot_swap_the_address_after_the_check(
    dns: FakeDNS, transport: RecordingTransport, port: int, tmp_path: Path
) -> None:
    """The name is resolved once per hop; the connection goes to that checked answer."""
    page = fetch_page(
        f"http://rebind.test:{port}/page", _settings(tmp_path, loopback=True), transport=transport
    )
    assert "Velna harbor" in page.title
    assert dns.asked.count("rebind.test") == 1
    assert [r.url.host for r in transport.requests] == ["127.0.0.1"]
    # Next fetch: the resolver now says 10.0.0.1, and that answer is refused, not used.
    reason = _refusal(
        f"http://rebind.test:{port}/page", _settings(tmp_path, loopback=True), transport
    )
    assert reason == "refused: rebind.test resolves to 10.0.0.1 is a private address"
    assert len(transport.requests) == 1


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("mixed.test", "refused: mixed.test resolves to 10.0.0.7 is a private address"),
        ("intranet.test", "refused: intranet.test resolves to 192.168.1.10 is a private address"),
        ("metadata.test", "resolves to 169.254.169.254 is a cloud metadata address"),
    ],
)
@pytest.mark.parametrize("loopback", [False, True], ids=["allowance-off", "allowance-on"])
def test_names_with_any_inner_address_are_refused_either_way(
    dns: FakeDNS,
    transport: RecordingTransport,
    tmp_path: Path,
    host: str,
    expected: str,
    loopback: bool,
) -> None:
    reason = _refusal(f"http://{host}/x", _settings(tmp_path, loopback=loopback), transport)
    assert reason.endswith(expected)
    assert transport.requests == []


@pytest.mark.parametrize(
    "host",
    [
        "mixed-loopback.test",
        "v6-loopback.test",
        "v6-mapped.test",
        "2130706433",  # 127.0.0.1 as one decimal number
        "0x7f.0.0.1",  # hexadecimal first octet
        "127.1",  # short form
        "[::ffff:127.0.0.1]",
        "[::ffff:7f00:1]",
    ],
)
def test_other_spellings_of_loopback_are_refused_without_the_allowance(
    dns: FakeDNS, transport: RecordingTransport, port: int, tmp_path: Path, host: str
) -> None:
    reason = _refusal(f"http://{host}:{port}/page", _settings(tmp_path, loopback=False), transport)
    assert reason.startswith("refused: ") and "loopback" in reason
    assert transport.requests == []


def test_userinfo_cannot_hide_the_real_host(
    dns: FakeDNS, transport: RecordingTransport, port: int, tmp_path: Path
) -> None:
    url = f"http://127.0.0.1:{port}@intranet.test/admin"  # the host is intranet.test
    reason = _refusal(url, _settings(tmp_path, loopback=True), transport)
    assert "192.168.1.10 is a private address" in reason
    assert transport.requests == []


@pytest.mark.parametrize(
    ("route", "expected"),
    [
        ("/to-name-private", "refused: intranet.test resolves to 192.168.1.10 is a private"),
        ("/to-name-metadata", "refused: metadata.test resolves to 169.254.169.254"),
        ("/to-file", "refused: file: URLs are not fetched"),
    ],
)
def test_redirects_to_inner_names_or_other_schemes_are_refused(
    dns: FakeDNS,
    transport: RecordingTransport,
    port: int,
    tmp_path: Path,
    route: str,
    expected: str,
) -> None:
    reason = _refusal(
        f"http://127.0.0.1:{port}{route}", _settings(tmp_path, loopback=True), transport
    )
    assert reason.startswith(expected)
    assert [r.url.path for r in transport.requests] == [route]  # nothing after the redirect


@pytest.mark.parametrize(
    ("location", "expected"),
    [
        ("http://2130706433/x", "refused: 2130706433 resolves to 127.0.0.1 is a loopback"),
        ("http://127.1/x", "refused: 127.1 resolves to 127.0.0.1 is a loopback"),
        ("http://[::ffff:169.254.169.254]/", "refused: ::ffff:169.254.169.254 "),  # metadata
        ("http://v6-loopback.test/", "refused: v6-loopback.test resolves to ::1 is a loopback"),
        ("//intranet.test/x", "refused: intranet.test resolves to 192.168.1.10 is a private"),
    ],
)
def test_a_public_page_redirecting_inwards_is_refused_without_the_allowance(
    dns: FakeDNS, tmp_path: Path, location: str, expected: str
) -> None:
    """A "public" site (faked: no traffic leaves the process) redirects to an inner address."""
    dns.names["public.test"] = [["93.184.216.34"]]
    seen: list[httpx.Request] = []

    def site(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(302, headers={"Location": location})

    reason = _refusal(
        "http://public.test/start", _settings(tmp_path, loopback=False), httpx.MockTransport(site)
    )
    assert reason.startswith(expected), reason
    assert [r.url.host for r in seen] == ["93.184.216.34"]  # the inner hop is never sent


@pytest.mark.parametrize("route", ["/to-javascript", "/to-data", "/to-mailto"])
def test_a_redirect_to_an_opaque_uri_is_a_fetch_error(
    transport: RecordingTransport, port: int, tmp_path: Path, route: str
) -> None:
    reason = _refusal(
        f"http://127.0.0.1:{port}{route}", _settings(tmp_path, loopback=True), transport
    )
    assert reason.startswith("refused: ")


def test_one_hostile_redirect_does_not_abort_fetching_the_other_sources(
    port: int, tmp_path: Path
) -> None:
    notes = [
        Footnote("i", url=f"http://127.0.0.1:{port}/to-javascript"),
        Footnote("ii", url=f"http://127.0.0.1:{port}/page"),
    ]
    reports = fetch_sources(notes, tmp_path / "sources", _settings(tmp_path, loopback=True))
    assert [(r.label, r.status) for r in reports] == [("i", "failed"), ("ii", "fetched")]


def test_a_gzip_bomb_hits_the_size_cap(port: int, tmp_path: Path) -> None:
    settings = _settings(tmp_path, loopback=True)  # cap: 100 kB; the page inflates to 2 MB
    with pytest.raises(FetchError, match="body larger than 100000 bytes"):
        fetch_page(f"http://127.0.0.1:{port}/gzip-bomb", settings)


def test_a_body_without_a_content_type_is_refused(port: int, tmp_path: Path) -> None:
    with pytest.raises(FetchError, match=r"content type \(none\) is not text"):
        fetch_page(f"http://127.0.0.1:{port}/no-type", _settings(tmp_path, loopback=True))


def test_fetch_sources_reports_refusals_and_writes_nothing(
    dns: FakeDNS, port: int, tmp_path: Path
) -> None:
    notes = [
        Footnote("i", url=f"http://harbor.test:{port}/page"),
        Footnote("ii", url="http://metadata.test/latest/meta-data/"),
        Footnote("iii", url="file:///etc/passwd"),
        Footnote("iv", url=f"http://127.0.0.1:{port}/to-name-private"),
    ]
    sources = tmp_path / "docs" / "sources"
    reports = fetch_sources(notes, sources, _settings(tmp_path, loopback=False))
    assert [(r.label, r.status) for r in reports] == [
        ("i", "failed"), ("ii", "failed"), ("iii", "failed"), ("iv", "failed"),
    ]  # fmt: skip
    assert all(r.reason.startswith("refused: ") for r in reports)
    assert list(sources.iterdir()) == []
