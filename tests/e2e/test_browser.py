"""The UI in a real browser: questions in Russian and English, clickable citations, uploads,
and a document that tries to run a script."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.e2e

ANSWER_TIMEOUT = 30_000  # ms; the first question may wait for the model to load
CABLE_DOC = "# Lisbon cable\n\nThe Lisbon undersea cable project is code-named Blue Heron.\n"


def ask(page: Any, question: str) -> Any:
    """Type ``question``, press Enter, and return the final bot message once it has arrived."""
    from playwright.sync_api import expect

    bots = page.locator('#rag-chat [data-testid="bot"]')
    before = bots.count()  # a second question must not return the first one's answer
    page.locator("#rag-question textarea").fill(question)
    page.keyboard.press("Enter")
    message = bots.nth(before)
    expect(message.locator(".rag-answer:not(.rag-pending)")).to_be_visible(timeout=ANSWER_TIMEOUT)
    return message


def assert_has_marker(message: Any) -> None:
    assert message.locator("a.cite-marker").count() >= 1, f"no citation in: {message.inner_text()}"


def assert_cited_tass(page: Any, message: Any) -> None:
    from playwright.sync_api import expect

    assert_has_marker(message)
    sources = page.locator("#rag-sources")
    expect(sources.locator(".cite-card").first).to_be_visible()
    expect(sources.locator(".fn-publisher", has_text="TASS").first).to_be_visible()
    link = sources.locator('a.fn-link[href^="https://tass.ru/"]').first
    expect(link).to_be_visible()
    assert link.get_attribute("rel") == "noopener noreferrer"


def test_russian_question_cites_the_footnote(open_page: Any, screenshot: Any) -> None:
    from playwright.sync_api import expect

    page = open_page()
    # The header names what is loaded (the article and notes.md; a footnote's source is not
    # counted), and Gradio's footer "Settings" link is gone beside our own Settings.
    expect(page.locator("#rag-header h1")).to_have_text("2 documents")
    expect(page.get_by_role("link", name=re.compile("Settings"))).to_have_count(0)
    message = ask(page, "Как Песков охарактеризовал разговор?")
    assert "теплый и необходимый" in message.inner_text()
    assert_cited_tass(page, message)
    # The TASS report behind [iii] is saved in docs/sources: its card says so and quotes it.
    note = page.locator('#rag-sources .fn-card[data-label="iii"]').first
    expect(note.locator(".fn-status--ok")).to_have_text("источник сохранён")  # in Russian
    expect(note.locator(".fn-passage")).not_to_be_empty()
    screenshot(page)


def test_english_question_in_dark_theme(open_page: Any, screenshot: Any) -> None:
    page = open_page(theme="dark")
    message = ask(page, "What did the Kremlin press service say both sides confirmed?")
    assert_cited_tass(page, message)
    assert page.evaluate("document.body.classList.contains('dark')")
    screenshot(page)


def test_clicking_a_marker_highlights_its_card(open_page: Any, screenshot: Any) -> None:
    from playwright.sync_api import expect

    page = open_page(height=700)
    # A question whose best match is a source sentence: the card shows the chain behind it.
    message = ask(page, "Как Песков охарактеризовал телефонный разговор Путина и Алиева?")
    assert_has_marker(message)
    marker = message.locator("a.cite-marker").first
    card = page.locator(marker.get_attribute("href") or "#missing")
    marker.click()
    expect(card).to_have_class(re.compile(r"\bis-active\b"))
    expect(card).to_be_in_viewport()
    assert page.locator(".cite-card.is-active").count() == 1
    screenshot(page)


def test_phone_width_has_no_sideways_scroll(open_page: Any, screenshot: Any) -> None:
    page = open_page(width=390, height=844)
    message = ask(page, "Peskov görüşmeyi nasıl nitelendirdi?")
    assert_has_marker(message)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page)


def test_script_in_a_document_shows_as_text(open_page: Any, screenshot: Any) -> None:
    page = open_page()
    message = ask(page, "Where was the Zebra Protocol signed?")
    assert "Reykjavik" in message.inner_text()
    sources = page.locator("#rag-sources")
    assert "<script>window.__pwned=1</script>" in sources.inner_text()
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert page.locator('#rag-sources img, #rag-chat img[src="x"]').count() == 0
    assert page.locator('a[href^="javascript"]').count() == 0
    screenshot(page)


def test_upload_ask_then_remove_and_its_answers_are_gone(
    open_page: Any, screenshot: Any, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    question = "What is the Lisbon undersea cable project code-named?"
    page = open_page()
    page.get_by_role("tab", name="Documents").click()
    expect(page.locator("#rag-documents")).to_contain_text("article.ru.txt")
    upload = tmp_path / "lisbon cable.md"
    upload.write_text(CABLE_DOC, "utf-8")
    page.locator('#rag-upload input[type="file"]').set_input_files(str(upload))
    # Gradio shows the name and the extension in separate cells: wait for the file row.
    expect(page.get_by_role("cell", name="lisbon cable.md")).to_be_visible()
    page.locator("#rag-add").click()
    # Saved under docs/uploads/ and indexed at once.
    message = page.locator("#rag-upload-msg")
    expect(message).to_contain_text("Added lisbon_cable.md to docs/uploads/", timeout=60_000)
    expect(message).to_contain_text("indexed")
    expect(page.locator("#rag-documents")).to_contain_text("uploads/lisbon_cable.md")
    page.locator("#rag-add").click()  # the same name again: refused without "replace"
    expect(message).to_contain_text("already exists")

    page.get_by_role("tab", name="Ask").click()
    answer = ask(page, question)
    assert "Blue Heron" in answer.inner_text()
    expect(page.locator("#rag-sources .cite-doc", has_text="Lisbon cable").first).to_be_visible()

    page.get_by_role("tab", name="Documents").click()
    page.locator("#rag-remove-choice input").click()
    page.get_by_role("option", name="Lisbon cable — uploads/lisbon_cable.md").click()
    page.locator("#rag-remove").click()
    confirm = page.locator("#rag-remove-yes")  # the confirm box: its question and buttons
    expect(confirm).to_be_visible()
    expect(page.locator("#rag-remove-question")).to_contain_text(
        "Remove “Lisbon cable” (uploads/lisbon_cable.md)?"
    )
    screenshot(page, "confirm")
    page.locator("#rag-remove-no").click()  # Cancel: nothing happens
    expect(confirm).not_to_be_visible()
    expect(page.locator("#rag-documents")).to_contain_text("uploads/lisbon_cable.md")
    page.locator("#rag-remove").click()
    page.locator("#rag-remove-yes").click()
    expect(page.locator("#rag-remove-msg")).to_contain_text(
        "Removed uploads/lisbon_cable.md", timeout=60_000
    )
    expect(confirm).not_to_be_visible()
    expect(page.locator("#rag-documents")).not_to_contain_text("lisbon_cable")
    screenshot(page)

    page.get_by_role("tab", name="Ask").click()
    answer = ask(page, question)
    assert "Blue Heron" not in answer.inner_text()
    latest = page.locator("#rag-sources section.rag-entry")  # earlier answers stay, folded
    expect(latest.locator(".cite-doc", has_text="Lisbon cable")).to_have_count(0)


def test_an_abstention_shows_the_closest_passages_uncited(open_page: Any, screenshot: Any) -> None:
    from playwright.sync_api import expect

    page = open_page()
    message = ask(page, "How many people live in Baku?")
    assert message.locator("a.cite-marker").count() == 0
    sources = page.locator("#rag-sources")
    expect(sources.locator(".rag-near").first).to_be_visible()
    assert sources.locator(".cite-card").count() == 0
    screenshot(page)


# Two sentences of one paragraph of the article (under footnotes [ii] and [iii]) and the
# TASS source behind [iii]: the article's paragraph gets one card, not two.
TWO_CITATIONS = "Как Песков охарактеризовал разговор и о чём договорились стороны?"


def paragraph_card(page: Any) -> Any:
    """The card of the answer's article paragraph that holds two citations."""
    cards = page.locator("#rag-sources section.rag-entry .cite-card")
    markers = [(cards.nth(i).get_attribute("data-markers") or "").split()
               for i in range(cards.count())]  # fmt: skip
    with_two = [cards.nth(i) for i, found in enumerate(markers) if len(found) >= 2]
    assert with_two, f"no card holds two citations: {page.locator('#rag-sources').inner_text()}"
    assert len(with_two) == 1
    return with_two[0]


def marker_link(message: Any, n: str) -> Any:
    return message.locator("a.cite-marker", has_text=re.compile(f"^{n}$"))


def test_two_citations_of_one_paragraph_share_one_card(open_page: Any, screenshot: Any) -> None:
    from playwright.sync_api import expect

    page = open_page(width=1400)
    message = ask(page, TWO_CITATIONS)
    card = paragraph_card(page)
    markers = card.get_attribute("data-markers").split()
    # Each of its citations is highlighted in the excerpt, and both markers lead to it.
    excerpt = card.locator(".cite-excerpt")
    expect(excerpt.locator("mark")).to_have_count(len(markers))
    for n in markers:
        expect(marker_link(message, n)).to_have_attribute("href", re.compile(f"-{n}$"))
    # The rest of the paragraph is folded away ...
    more = card.locator("details.cite-more")
    expect(more).to_have_count(1)
    assert more.get_attribute("open") is None
    expect(card.locator(".cite-full")).not_to_be_visible()
    assert len(excerpt.inner_text()) < len(card.locator(".cite-full").text_content())
    # ... and the footnote cards stay under the paragraph's card.
    expect(card.locator(".fn-card").first).to_be_visible()
    # Clicking the second marker highlights the shared card and that marker's sentence.
    marker_link(message, markers[1]).click()
    expect(card).to_have_class(re.compile(r"\bis-active\b"))
    expect(excerpt.locator(f'mark[data-marker="{markers[1]}"]')).to_have_class(
        re.compile(r"\bis-active\b")
    )
    screenshot(page)
    # "show paragraph" shows the whole paragraph in place of the excerpt.
    more.locator("summary").click()
    expect(card.locator(".cite-full")).to_be_visible()
    expect(excerpt).not_to_be_visible()
    expect(card.locator(".cite-full mark")).to_have_count(len(markers))


def test_phone_page_for_a_two_citation_answer_is_short(open_page: Any, screenshot: Any) -> None:
    page = open_page(width=390, height=844)
    ask(page, TWO_CITATIONS)
    paragraph_card(page)
    height = page.evaluate("document.documentElement.scrollHeight")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page)
    assert height < 2500, f"the phone page is {height} px tall"


def test_the_panel_and_the_documents_tab_speak_the_question_language(
    open_page: Any, screenshot: Any
) -> None:
    from playwright.sync_api import expect

    page = open_page(width=1400)
    message = ask(page, "What did the Kremlin press service say both sides confirmed?")
    assert_has_marker(message)
    sources = page.locator("#rag-sources")
    expect(sources.locator(".rag-sources-head").first).to_have_text(re.compile("^Sources for"))
    expect(sources.locator(".cite-more .cite-show").first).to_have_text("show paragraph")
    # The answer quotes the Russian article: one line in English says so and names the setting.
    note = message.locator(".rag-note")
    expect(note).to_have_count(1)
    expect(note).to_contain_text("Quoted in Russian")
    expect(note).to_contain_text("RAG_LLM=openai-like")
    screenshot(page)

    message = ask(page, "Как Песков охарактеризовал разговор?")
    expect(sources.locator(".rag-sources-head").first).to_have_text(
        re.compile("^Источники ответа на")
    )
    expect(sources.locator(".fn-status").first).to_have_text(re.compile("^источник"))
    expect(message.locator(".rag-note")).to_have_count(0)
    expect(sources.locator("details.rag-earlier > summary")).to_contain_text("Earlier:")
    page.get_by_role("tab", name="Documents").click()
    expect(page.locator("#rag-documents th").first).to_have_text("Название")
    expect(page.locator("#rag-rebuild")).to_have_text("Перестроить индекс")
    screenshot(page, "documents")
