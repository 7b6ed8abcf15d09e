"""Source fetching: a real HTTP server on 127.0.0.1, and no traffic to any other address."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from helpers.transport import RecordingTransport
from rag.corpus.sources import (
    extract_main_text,
    fetch_page,
    fetch_sources,
    render_source_file,
    source_file_name,
)
from rag.errors import FetchError
from rag.models import Footnote
from rag.settings import Settings

ARTICLE_HTML = """<!doctype html>
<html><head><meta charset="utf-8"><title>Peskov called the talk warm - Example News</title>
<meta property="og:title" content="Peskov called the talk warm"></head>
<body>
<nav class="main-nav"><ul><li><a href="/">Home</a></li><li><a href="/politics">Politics</a></li>
<li><a href="/sport">Sport</a></li></ul></nav>
<div class="share-buttons"><a href="#">Share on Facebook</a> <a href="#">Tweet this</a></div>
<article>
<h1>Peskov called the talk warm</h1>
<p>Kremlin spokesman Dmitry Peskov described the telephone conversation between the two
presidents as very warm and necessary, adding that the leaders discussed the regional situation.</p>
<p>According to Peskov, both sides confirmed their resolve to strengthen allied relations and
agreed to continue personal contacts in the coming year, including a possible visit.</p>
<p>The conversation took place on the birthday of the Azerbaijani president, who received
congratulations and a telegram from Moscow earlier in the day.</p>
<p>Share this</p>
</article>
<aside class="related-articles"><h2>Related articles</h2>
<ul><li><a href="/a">Unrelated story about football transfers</a></li>
<li><a href="/b">Weather forecast for the weekend</a></li></ul></aside>
<footer><p>Copyright 2025 Example News. All rights reserved.</p></footer>
</body></html>
"""
ARTICLE_SENTENCE = "described the telephone conversation between the two"
BOILERPLATE = (
    "Home",
    "Share on Facebook",
    "Tweet this",
    "Related articles",
    "football",
    "Copyright",
)
CP1251_HTML = (
    "<html><head><title>Песков</title></head><body><article><p>"
    + "Песков назвал разговор президентов очень тёплым и нужным. " * 8
    + "</p></article></body></html>"
)


class _Handler(BaseHTTPRequestHandler):
    """Routes of the test site; each answers the way a misbehaving real site might."""

    def do_GET(self) -> None:
        path = self.path
        if path == "/article":
            self._reply(200, "text/html; charset=utf-8", ARTICLE_HTML.encode())
        elif path == "/plain":
            self._reply(200, "text/plain; charset=utf-8", b"Line one.\n\nLine two.\n")
        elif path == "/cp1251":
            self._reply(200, "text/html; charset=windows-1251", CP1251_HTML.encode("cp1251"))
        elif path == "/redirect":
            self._redirect("/article")
        elif path.startswith("/chain/"):
            self._redirect(f"/chain/{int(path.rsplit('/', 1)[1]) + 1}")
        elif path == "/to-private":
            self._redirect("http://10.0.0.1/admin")
        elif path == "/to-metadata":
            self._redirect("http://169.254.169.254/latest/meta-data/")
        elif path == "/big":
            self._reply(200, "text/html", b"<p>" + b"x" * 5000 + b"</p>")
        elif path == "/big-unannounced":
            self._reply(200, "text/html", b"<p>" + b"x" * 50_000 + b"</p>", length=False)
        elif path == "/binary":
            self._reply(200, "application/pdf", b"%PDF-1.4 binary")
        elif path == "/slow":
            time.sleep(1.5)
            self._reply(200, "text/plain", b"too late")
        else:
            self._reply(404, "text/html", b"<h1>Not found</h1>")

    def _reply(self, status: int, content_type: str, body: bytes, *, length: bool = True) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        if length:  # without it, HTTP/1.0 delimits the body by closing the connection
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _redirect(self, location: str) -> None:
        self.send_response(302)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:  # keep test output quiet
        pass


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    # Polled every 50 ms, not 0.5 s: shutdown() waits for the next poll.
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        docs_dir=tmp_path / "docs",
        index_dir=tmp_path / "index",
        fetch_allow_loopback=True,
        fetch_timeout=2,
        fetch_max_bytes=2000,
        fetch_max_redirects=2,
    )


@pytest.fixture
def transport() -> RecordingTransport:
    return RecordingTransport()


def _reason(url: str, settings: Settings, transport: httpx.BaseTransport | None = None) -> str:
    with pytest.raises(FetchError) as caught:
        fetch_page(url, settings, transport=transport)
    return str(caught.value)


# --- fetching ------------------------------------------------------------------------


def test_article_keeps_main_text_and_drops_boilerplate(site: str, settings: Settings) -> None:
    page = fetch_page(f"{site}/article", settings)
    assert page.title == "Peskov called the talk warm"
    assert ARTICLE_SENTENCE in " ".join(page.text.split())
    assert "agreed to continue personal contacts" in " ".join(page.text.split())
    for furniture in (*BOILERPLATE, "Share this"):
        assert furniture not in page.text
    assert page.content_type == "text/html"


def test_request_goes_to_checked_address_with_real_host_header(
    site: str, settings: Settings, transport: RecordingTransport
) -> None:
    port = site.rsplit(":", 1)[1]
    page = fetch_page(f"http://localhost:{port}/article", settings, transport=transport)
    assert page.final_url == f"http://localhost:{port}/article"
    sent = transport.requests[-1]
    assert sent.url.host in {"127.0.0.1", "::1"}  # the resolved address, not the name
    assert sent.headers["host"] == f"localhost:{port}"
    assert sent.headers["user-agent"].startswith("rag-footnotes/")


def test_https_request_carries_sni_hostname_for_tls_verification(settings: Settings) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, text="plain text body", headers={"content-type": "text/plain"})

    page = fetch_page("https://localhost/x", settings, transport=httpx.MockTransport(handler))
    assert page.text == "plain text body"
    assert seen[0].extensions["sni_hostname"] == "localhost"
    assert seen[0].url.host in {"127.0.0.1", "::1"}


def test_plain_text_is_kept_as_is(site: str, settings: Settings) -> None:
    page = fetch_page(f"{site}/plain", settings)
    assert page.text == "Line one.\n\nLine two."
    assert page.content_type == "text/plain"


def test_response_charset_is_used(site: str, settings: Settings) -> None:
    page = fetch_page(f"{site}/cp1251", settings)
    assert "Песков назвал разговор президентов очень тёплым" in page.text


def test_redirect_is_followed(site: str, settings: Settings) -> None:
    page = fetch_page(f"{site}/redirect", settings)
    assert page.url == f"{site}/redirect"
    assert page.final_url == f"{site}/article"
    assert ARTICLE_SENTENCE in " ".join(page.text.split())


def test_redirect_chain_longer_than_max_is_refused(site: str, settings: Settings) -> None:
    assert _reason(f"{site}/chain/0", settings) == "too many redirects (more than 2)"


@pytest.mark.parametrize(
    ("route", "expected"),
    [
        ("/to-private", "refused: 10.0.0.1 is a private address"),
        ("/to-metadata", "refused: 169.254.169.254 is a cloud metadata address"),
    ],
)
def test_redirect_to_inner_network_is_refused_before_connecting(
    site: str, settings: Settings, transport: RecordingTransport, route: str, expected: str
) -> None:
    started = time.monotonic()
    reason = _reason(f"{site}{route}", settings, transport)
    assert reason.startswith(expected)
    assert time.monotonic() - started < 1
    assert [request.url.host for request in transport.requests] == ["127.0.0.1"]


@pytest.mark.parametrize(
    ("route", "expected"),
    [
        ("/missing", "HTTP 404"),
        ("/big", "body larger than 2000 bytes"),
        ("/big-unannounced", "body larger than 2000 bytes"),
        ("/binary", "content type application/pdf is not text"),
    ],
)
def test_bad_responses_are_refused(
    site: str, settings: Settings, route: str, expected: str
) -> None:
    assert _reason(f"{site}{route}", settings) == expected


def test_slow_server_times_out(site: str, settings: Settings) -> None:
    quick = settings.model_copy(update={"fetch_timeout": 0.3})
    started = time.monotonic()
    assert _reason(f"{site}/slow", quick) == "timed out after 0.3 s"
    assert time.monotonic() - started < 1


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("file:///etc/passwd", "refused: file: URLs are not fetched"),
        ("ftp://example.com/file.txt", "refused: ftp: URLs are not fetched"),
        ("javascript:alert(1)", "refused: javascript: URLs are not fetched"),
        ("tass.ru/politika/1", "refused: URLs without a scheme are not fetched"),
    ],
)
def test_non_http_schemes_are_refused(
    settings: Settings, transport: RecordingTransport, url: str, expected: str
) -> None:
    assert _reason(url, settings, transport).startswith(expected)
    assert transport.requests == []


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("127.0.0.1", "refused: 127.0.0.1 is a loopback address"),
        ("[::1]", "refused: ::1 is a loopback address"),
        ("localhost", "refused: localhost resolves to "),
    ],
)
def test_loopback_is_refused_unless_allowed(
    site: str, settings: Settings, transport: RecordingTransport, host: str, expected: str
) -> None:
    strict = settings.model_copy(update={"fetch_allow_loopback": False})
    port = site.rsplit(":", 1)[1]
    assert _reason(f"http://{host}:{port}/article", strict, transport).startswith(expected)
    assert transport.requests == []


def test_unresolvable_host_is_reported(settings: Settings) -> None:
    assert _reason("https://nonexistent.invalid/page", settings) == (
        "could not resolve nonexistent.invalid"
    )


# --- saving --------------------------------------------------------------------------

FETCHED_AT = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)


def test_fetch_sources_writes_reports_and_keeps_old_files(
    site: str, settings: Settings, tmp_path: Path
) -> None:
    sources = tmp_path / "docs" / "sources"  # does not exist yet
    footnotes = [
        Footnote("iii", title="Peskov", url=f"{site}/article"),
        Footnote("iv", url=f"{site}/missing"),
        Footnote("v", url=f"{site}/binary"),
        Footnote("vi", title="No link"),
        Footnote("vii", url="http://10.0.0.1/"),
    ]
    sources.mkdir(parents=True)
    previous = "---\nlabel: iv\nurl: x\ntitle: t\nfetched: 2026-01-01T00:00:00+00:00\n---\n\nold\n"
    (sources / "iv.md").write_text(previous, encoding="utf-8")

    reports = fetch_sources(footnotes, sources, settings, now=lambda: FETCHED_AT)

    by_label = {report.label: report for report in reports}
    assert [report.label for report in reports] == ["iii", "iv", "v", "vi", "vii"]
    assert (by_label["iii"].status, by_label["iii"].path) == ("fetched", sources / "iii.md")
    assert (by_label["iv"].status, by_label["iv"].reason) == ("kept", "HTTP 404")
    assert by_label["iv"].path == sources / "iv.md"
    assert (sources / "iv.md").read_text(encoding="utf-8") == previous
    assert (by_label["v"].status, by_label["v"].path) == ("failed", None)
    assert (by_label["vi"].status, by_label["vi"].reason) == ("skipped", "footnote has no URL")
    assert by_label["vii"].reason == "refused: 10.0.0.1 is a private address"
    assert sorted(path.name for path in sources.iterdir()) == ["iii.md", "iv.md"]

    written = (sources / "iii.md").read_text(encoding="utf-8")
    head = (
        f"---\nlabel: iii\nurl: {site}/article\ntitle: Peskov called the talk warm\n"
        "fetched: 2026-11-25T14:00:00+00:00\n---\n\n# Peskov called the talk warm\n\n"
        "Kremlin spokesman Dmitry Peskov"
    )
    assert written.startswith(head)
    body = written.split("\n\n", 2)[2]
    assert "\n\nAccording to Peskov" in body  # paragraphs separated by blank lines
    assert written.endswith("\n") and not written.endswith("\n\n")
    for furniture in BOILERPLATE:
        assert furniture not in written


def test_failed_write_keeps_old_file_and_leaves_no_temp(
    site: str, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = "---\nlabel: iii\nurl: x\ntitle: t\nfetched: 2026-01-01T00:00:00+00:00\n---\n\nold\n"
    (tmp_path / "iii.md").write_text(old, encoding="utf-8")

    def full_disk(*args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("rag.corpus.sources.os.replace", full_disk)
    [report] = fetch_sources([Footnote("iii", url=f"{site}/article")], tmp_path, settings)
    assert report.status == "kept"
    assert "No space left on device" in report.reason
    assert [path.name for path in tmp_path.iterdir()] == ["iii.md"]
    assert (tmp_path / "iii.md").read_text(encoding="utf-8") == old


def test_a_source_saved_by_hand_is_never_replaced(
    site: str, settings: Settings, tmp_path: Path
) -> None:
    (tmp_path / "iii.md").write_text("My own copy of the TASS story.\n", encoding="utf-8")
    [report] = fetch_sources([Footnote("iii", url=f"{site}/article")], tmp_path, settings)
    assert (report.status, report.reason) == ("kept", "saved by hand; not replaced")
    assert (tmp_path / "iii.md").read_text(encoding="utf-8") == "My own copy of the TASS story.\n"


def test_closed_port_is_reported(settings: Settings) -> None:
    with socket.socket() as probe:  # a port that was free a moment ago has no listener
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    assert _reason(f"http://127.0.0.1:{port}/", settings).startswith(
        "could not connect to 127.0.0.1"
    )


def test_render_source_file_exact_shape() -> None:
    text = render_source_file(
        "iii", "https://tass.ru/politika/26006283", "Peskov\nnazval", "One.\n\nTwo.", FETCHED_AT
    )
    assert text == (
        "---\nlabel: iii\nurl: https://tass.ru/politika/26006283\ntitle: Peskov nazval\n"
        "fetched: 2026-11-25T14:00:00+00:00\n---\n\n# Peskov nazval\n\nOne.\n\nTwo.\n"
    )


@pytest.mark.parametrize(
    ("label", "name"),
    [("iii", "iii.md"), ("12", "12.md"), ("^3", "3.md"), ("../x", "x.md"), ("а", "d0b0.md")],
)
def test_source_file_name(label: str, name: str) -> None:
    assert source_file_name(label) == name


@given(st.text())
def test_source_file_name_is_always_a_safe_single_name(label: str) -> None:
    name = source_file_name(label)
    assert name.endswith(".md")
    assert all(char.isascii() and (char.isalnum() or char in "_-") for char in name[:-3])
    assert name[:-3]


def test_extract_main_text_falls_back_when_trafilatura_finds_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("trafilatura.bare_extraction", lambda *a, **k: None)
    html = "<html><title>Tiny &amp; small</title><body><p>Hi.</p><p>Share</p></body></html>"
    assert extract_main_text(html) == ("Tiny & small", "Hi.")


def test_extract_main_text_handles_empty_input() -> None:
    assert extract_main_text("") == ("", "")


@pytest.mark.parametrize(
    ("line", "kept"),
    [
        ("Share this", False),
        ("Share on Telegram", False),
        ("Поделиться:", False),
        ("Читайте также", False),
        ("Related articles", False),
        ("Also available in: English, Türkçe", False),
        ("Related to this, the minister said the talks would continue.", True),
        ("Share prices rose by two percent after the announcement.", True),
    ],
)
def test_boilerplate_rules(line: str, kept: bool) -> None:
    body = "".join(f"<p>{ARTICLE_SENTENCE} paragraph {n} of the story text.</p>" for n in range(4))
    html = f"<html><body><article>{body}<p>{line}</p></article></body></html>"
    assert (line in extract_main_text(html)[1]) is kept
