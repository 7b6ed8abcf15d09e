"""Fetch the outside sources an article's footnotes cite and save them as ``<label>.md``.

A URL taken from a document is untrusted: it, or a redirect it leads to, may point at this
machine, the local network or a cloud metadata service. So every hop is checked before any
connection is made (http/https only; every address the host resolves to must be public) and
the request goes to the very address that was checked, so a second DNS answer cannot differ.
"""

from __future__ import annotations

import os
import re
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urljoin

import httpx

from rag.corpus.addresses import address_refusal, resolve
from rag.corpus.documents import front_matter
from rag.corpus.web_text import extract_main_text, one_line
from rag.errors import FetchError
from rag.models import Footnote
from rag.settings import Settings

__all__ = [
    "FetchReport",
    "FetchedPage",
    "attempted",
    "extract_main_text",
    "fetch_page",
    "fetch_sources",
    "looks_offline",
    "nothing_fetched",
    "render_source_file",
    "source_file_name",
]

USER_AGENT = "rag-footnotes/0.1 (+source fetcher)"
SAVED_BY_HAND = "saved by hand; not replaced"
# How a fetch fails when the site cannot be reached at all (no DNS, no route, no answer).
_UNREACHABLE = ("could not resolve", "timed out", "request failed")
_TEXT_TYPES = frozenset({"text/html", "application/xhtml+xml", "text/plain"})
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_DEFAULT_PORTS = {"http": 80, "https": 443}
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)


@dataclass(frozen=True)
class FetchReport:
    """What happened to one footnote's source: fetched, failed, kept (old file) or skipped."""

    label: str
    url: str
    status: str
    reason: str = ""
    path: Path | None = None


@dataclass(frozen=True)
class FetchedPage:
    """A fetched page's main text; ``final_url`` is where redirects ended."""

    url: str
    final_url: str
    title: str
    text: str
    content_type: str


def fetch_sources(
    footnotes: Iterable[Footnote],
    sources_dir: Path,
    settings: Settings,
    *,
    transport: httpx.BaseTransport | None = None,
    now: Callable[[], datetime] | None = None,
) -> list[FetchReport]:
    """Fetch every footnote's URL into ``sources_dir/<label>.md``; one report per label.

    A failure is reported, never raised, and never touches a file already there.
    """
    clock = now or (lambda: datetime.now(UTC))
    sources_dir.mkdir(parents=True, exist_ok=True)
    reports: dict[str, FetchReport] = {}
    with _client(settings, transport) as client:
        for footnote in footnotes:
            if footnote.label not in reports:  # the first entry of a repeated label wins
                reports[footnote.label] = _fetch_one(client, footnote, sources_dir, settings, clock)
    return list(reports.values())


def attempted(reports: Sequence[FetchReport]) -> list[FetchReport]:
    """The reports of sources a fetch was tried for (not skipped, not kept as saved by hand)."""
    return [r for r in reports if r.status != "skipped" and r.reason != SAVED_BY_HAND]


def nothing_fetched(reports: Sequence[FetchReport]) -> bool:
    """Whether a fetch tried at least one source and fetched none."""
    tried = attempted(reports)
    return bool(tried) and not any(r.status == "fetched" for r in tried)


def looks_offline(reports: Sequence[FetchReport]) -> bool:
    """Whether nothing was fetched because no site could be reached at all: the machine is
    offline (or behind a closed firewall), not the sources at fault."""
    tried = attempted(reports)
    return nothing_fetched(reports) and all(r.reason.startswith(_UNREACHABLE) for r in tried)


def _fetch_one(
    client: httpx.Client,
    footnote: Footnote,
    sources_dir: Path,
    settings: Settings,
    clock: Callable[[], datetime],
) -> FetchReport:
    url = footnote.url.strip()
    if not url:
        return FetchReport(footnote.label, url, "skipped", "footnote has no URL")
    path = sources_dir / source_file_name(footnote.label)
    if _saved_by_hand(path):
        # The user's own copy of the source wins over whatever the web serves today.
        return FetchReport(footnote.label, url, "kept", SAVED_BY_HAND, path)
    try:
        page = _fetch(client, url, settings)
        content = render_source_file(footnote.label, url, page.title, page.text, clock())
        _write_atomically(path, content)
    except FetchError as exc:
        reason = str(exc)
    except OSError as exc:
        reason = f"could not write {path}: {exc.strerror or exc}"
    else:
        return FetchReport(footnote.label, url, "fetched", path=path)
    kept = path.exists()  # a failure never touches it: the old text beats no text
    status = "kept" if kept else "failed"
    return FetchReport(footnote.label, url, status, reason, path if kept else None)


def _saved_by_hand(path: Path) -> bool:
    """A file we did not write: no ``fetched:`` key in its front matter."""
    try:
        head = path.read_text("utf-8", errors="replace")[:2000]
    except OSError:
        return False
    meta, _ = front_matter(head)
    return "fetched" not in meta


def fetch_page(
    url: str, settings: Settings, *, transport: httpx.BaseTransport | None = None
) -> FetchedPage:
    """Fetch ``url`` safely and extract its main text; raise FetchError with a one-line reason."""
    with _client(settings, transport) as client:
        return _fetch(client, url, settings)


def _client(settings: Settings, transport: httpx.BaseTransport | None) -> httpx.Client:
    return httpx.Client(
        transport=transport,
        timeout=httpx.Timeout(settings.fetch_timeout),
        follow_redirects=False,  # each Location is checked like the first URL
        trust_env=False,  # a proxy from the environment would bypass the address check
        # No pooled connections: the pool is keyed by IP, and a TLS connection verified for
        # one hostname must not carry a request for another hostname on the same IP.
        limits=httpx.Limits(max_keepalive_connections=0),
        headers={
            "User-Agent": USER_AGENT,
            "Accept": "text/html, application/xhtml+xml, text/plain;q=0.9",
        },
    )


def _fetch(client: httpx.Client, url: str, settings: Settings) -> FetchedPage:
    deadline = time.monotonic() + settings.fetch_timeout
    client.cookies.clear()  # the jar is keyed by IP: one site's cookies must not reach another
    current = url
    try:
        for hop in range(settings.fetch_max_redirects + 1):
            try:
                target, addresses = _check_url(current, settings, deadline)
            except FetchError as exc:
                raise FetchError(f"{exc} (redirected to {current})" if hop else str(exc)) from None
            response = _send(client, target, addresses, deadline)
            try:
                location = response.headers.get("location")
                if response.status_code not in _REDIRECTS or not location:
                    return _read_page(response, url, str(target), settings, deadline)
            finally:
                response.close()
            current = urljoin(str(target), location)
    except httpx.TimeoutException:
        raise FetchError(f"timed out after {settings.fetch_timeout:g} s") from None
    except httpx.InvalidURL:  # e.g. "Location: javascript:…", which httpx cannot even parse
        raise FetchError("refused: the page redirects to an URL that is not http(s)") from None
    except httpx.HTTPError as exc:
        raise FetchError(f"request failed: {one_line(str(exc)) or type(exc).__name__}") from None
    raise FetchError(f"too many redirects (more than {settings.fetch_max_redirects})")


def _check_url(url: str, settings: Settings, deadline: float) -> tuple[httpx.URL, list[str]]:
    """The parsed URL and its addresses, if it is http(s) and every address may be contacted."""
    try:
        target = httpx.URL(url)
    except httpx.InvalidURL:
        raise FetchError(f"refused: {url!r} is not a valid URL") from None
    if target.scheme not in _DEFAULT_PORTS:
        scheme = f"{target.scheme}: URLs" if target.scheme else "URLs without a scheme"
        raise FetchError(f"refused: {scheme} are not fetched (http and https only)")
    host = target.raw_host.decode("ascii")
    if not host:
        raise FetchError(f"refused: {url!r} has no host")
    addresses = resolve(host, target.port or _DEFAULT_PORTS[target.scheme], deadline)
    if addresses is None:
        raise FetchError(f"could not resolve {host}")
    for address in addresses:
        refusal = address_refusal(address, allow_loopback=settings.fetch_allow_loopback)
        if refusal:
            where = refusal if address == host else f"{host} resolves to {refusal}"
            raise FetchError(f"refused: {where}")
    return target, addresses


def _send(
    client: httpx.Client, target: httpx.URL, addresses: list[str], deadline: float
) -> httpx.Response:
    """Open a streamed GET of ``target`` at the first checked address that accepts."""
    timeout = httpx.Timeout(max(deadline - time.monotonic(), 0.001))
    extensions = (
        {"sni_hostname": target.raw_host.decode("ascii")} if target.scheme == "https" else {}
    )
    error: httpx.ConnectError | None = None
    for address in addresses:
        pinned = target.copy_with(host=address, userinfo=b"")
        request = client.build_request("GET", pinned, timeout=timeout, extensions=extensions)
        request.headers["Host"] = target.netloc.decode("ascii")  # the name, not the address
        try:
            return client.send(request, stream=True)
        except httpx.ConnectError as exc:
            error = exc  # try the host's next address
    raise FetchError(f"could not connect to {target.host}: {one_line(str(error))}")


def _read_page(
    response: httpx.Response, url: str, final_url: str, settings: Settings, deadline: float
) -> FetchedPage:
    if not response.is_success:
        raise FetchError(f"HTTP {response.status_code}")
    content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in _TEXT_TYPES:
        raise FetchError(f"content type {content_type or '(none)'} is not text")
    body = _read_capped(response, settings, deadline)
    if content_type == "text/plain":
        title, text = final_url, _decode(body, response.charset_encoding).replace("\r\n", "\n")
    else:
        html = _decode(body, response.charset_encoding, sniff=True)
        title, text = extract_main_text(html, final_url)
    if not text.strip():
        raise FetchError("no readable text on the page")
    return FetchedPage(url, final_url, title or final_url, text.strip(), content_type)


def _read_capped(response: httpx.Response, settings: Settings, deadline: float) -> bytes:
    """The body, refused once it exceeds the size cap or the time budget."""
    limit = settings.fetch_max_bytes
    too_big = FetchError(f"body larger than {limit} bytes")
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_big  # refuse before downloading anything
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():  # decoded bytes, so a gzip bomb hits the cap too
        size += len(chunk)
        if size > limit:
            raise too_big
        if time.monotonic() > deadline:  # a server dripping bytes must not keep us forever
            raise httpx.ReadTimeout("body too slow")
        chunks.append(chunk)
    return b"".join(chunks)


def _decode(body: bytes, charset: str | None, *, sniff: bool = False) -> str:
    """The body as text: the response's charset, else the page's <meta charset>, else UTF-8."""
    if not charset and sniff and (match := _META_CHARSET.search(body[:4096])):
        charset = match.group(1).decode("ascii")
    try:
        return body.decode(charset or "utf-8", errors="replace")
    except LookupError:  # a charset name Python does not know
        return body.decode("utf-8", errors="replace")


def render_source_file(label: str, url: str, title: str, text: str, fetched_at: datetime) -> str:
    """The ``<label>.md`` text: front matter (label, url, title, fetched), heading, main text."""
    if fetched_at.tzinfo is None:
        fetched_at = fetched_at.replace(tzinfo=UTC)  # our clock is UTC; say so explicitly
    heading = one_line(title) or one_line(url)
    return (
        f"---\nlabel: {one_line(label)}\nurl: {one_line(url)}\ntitle: {heading}\n"
        f"fetched: {fetched_at.isoformat(timespec='seconds')}\n---\n\n"
        f"# {heading}\n\n{text.strip()}\n"
    )


def source_file_name(label: str) -> str:
    """``iii`` -> ``iii.md``: only ``[A-Za-z0-9_-]``, so a label can never name another path."""
    stem = re.sub(r"[^A-Za-z0-9_-]+", "_", label).strip("_")
    # A label with no ASCII letter or digit (e.g. Cyrillic) still gets a distinct, safe name.
    return f"{stem or label.encode().hex()[:40] or 'source'}.md"


def _write_atomically(path: Path, content: str) -> None:
    # Readers see the old file or the new one, never half of one.
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as file:
            file.write(content)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
