"""The UI's own words, in the question's language (ru/en/tr): panel labels, tab texts, notes.

``labels_for(language)`` gives the table for "ru", "en" or "tr" (English for any other), so a
Russian question gets a Russian sources panel and a Turkish one a Turkish panel. Every table
has the same keys (a test checks it); ``{placeholders}`` are filled with ``str.format``.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["LABELS", "LANGUAGE_NAMES", "labels_for", "language_note"]

LABELS: dict[str, dict[str, str]] = {
    "en": {
        "searching": "Searching…",
        "went_wrong": "Something went wrong: see the log.",
        "searching_for": "Searching for “{q}”…",
        "sources_for": "Sources for “{q}”",
        "earlier": "Earlier: “{q}”",
        "panel_empty": "Ask a question: the passages and footnoted sources behind each answer "
        "appear here. Click a number in an answer to jump to its source.",
        "nothing_cited": "Nothing in these documents answers this, so nothing is cited.",
        "closest": "Closest passages (they do not answer it):",
        "show_source": "Show source {n}",
        "unsupported": "Not supported by the cited passage:",
        "show": "show paragraph",
        "hide": "hide paragraph",
        "no_footnote": "No footnote of the document covers this passage.",
        "accessed": "accessed",
        "cited_passage": "Source passage, cited as [{n}]",
        "closest_passage": "Closest passage in the source",
        "unknown_publisher": "unknown publisher",
        # The note under an answer that quotes documents in another language.
        "quotes_in": "Quoted in {lang}, the documents' language.",
        "use_llm_mode": "For an answer in English, choose the LLM answer mode in Settings.",
        "set_llm": "For answers in English, set an LLM: RAG_LLM=openai-like, "
        "RAG_LLM_BASE_URL, RAG_LLM_MODEL.",
        # The Documents tab.
        "index": "Index",
        "state_ok": "up to date",
        "state_missing": "not built",
        "state_stale": "stale",
        "embedder": "Embedder",
        "built_at": "Built at",
        "docs_folder": "Documents folder",
        "contents": "Contents",
        "contents_value": "{documents} documents, {passages} passages, {footnotes} footnotes; "
        "sources: {present} of {total} saved",
        "no_documents": "No documents are indexed yet.",
        "col_title": "Title",
        "col_file": "File",
        "col_passages": "Passages",
        "col_footnotes": "Footnotes (source saved?)",
        "kind_source": "source [{label}]",
        "added": "Added {name} to docs/uploads/. {summary}",
        "upload_label": "Add a document (.txt, .md, .html; at most 5 MB)",
        "overwrite": "Replace a file with the same name",
        "add": "Add to documents",
        "rebuild": "Rebuild index",
        "fetch": "Fetch sources",
        "col_footnote": "Footnote",
        "col_url": "URL",
        "col_status": "Status",
        "col_details": "Details",
        "no_fetchable": "The documents have no footnotes with a URL to fetch.",
        "col_language": "Language",
        "lang_ru": "Russian",
        "lang_en": "English",
        "lang_tr": "Turkish",
        "source_present": "source saved",
        "source_absent": "source not saved",
        "sources_present": "sources: {present} of {total} saved",
        "remove_label": "Remove a document",
        "remove": "Remove…",
        "confirm_remove": "Remove “{title}” ({path})? The file is moved to docs/.removed/ "
        "(nothing is deleted) and the index is rebuilt without it.",
        "yes_remove": "Yes, remove it",
        "cancel": "Cancel",
        "removed": "Removed {path} (the file is now {kept}). {summary}",
        "choose_document": "Choose a document to remove first.",
        "fetch_count": "{fetched} of {total} sources fetched",
        "offline": "Nothing was fetched: no source's site could be reached, so this machine looks "
        "offline. Fetch again when it is online, or save a source's text by hand as "
        "{dir}/<label>.md (for footnote [{label}]: {dir}/{label}.md); a saved file counts "
        "the same as a fetched one.",
    },
    "ru": {
        "searching": "Ищу…",
        "went_wrong": "Что-то пошло не так: подробности в журнале.",
        "searching_for": "Ищу «{q}»…",
        "sources_for": "Источники ответа на «{q}»",
        "earlier": "Ранее: «{q}»",
        "panel_empty": "Задайте вопрос: здесь появятся фрагменты и источники из сносок, на "
        "которые опирается ответ. Нажмите на номер в ответе, чтобы перейти к источнику.",
        "nothing_cited": "В этих документах нет ответа, поэтому ничего не процитировано.",
        "closest": "Ближайшие фрагменты (на вопрос они не отвечают):",
        "show_source": "Показать источник {n}",
        "unsupported": "Не подтверждается процитированным фрагментом:",
        "show": "показать абзац",
        "hide": "скрыть абзац",
        "no_footnote": "Ни одна сноска документа не относится к этому фрагменту.",
        "accessed": "дата обращения",
        "cited_passage": "Фрагмент источника, цитата [{n}]",
        "closest_passage": "Ближайший фрагмент источника",
        "unknown_publisher": "издатель не указан",
        "quotes_in": "Цитаты на {lang} — языке документов.",
        "use_llm_mode": "Чтобы ответ был на русском, выберите в настройках режим LLM.",
        "set_llm": "Чтобы ответы были на русском, подключите LLM: RAG_LLM=openai-like, "
        "RAG_LLM_BASE_URL, RAG_LLM_MODEL.",
        "index": "Индекс",
        "state_ok": "актуален",
        "state_missing": "не построен",
        "state_stale": "устарел",
        "embedder": "Эмбеддер",
        "built_at": "Построен",
        "docs_folder": "Папка документов",
        "contents": "Содержимое",
        "contents_value": "документов: {documents}, фрагментов: {passages}, сносок: "
        "{footnotes}; источники: сохранено {present} из {total}",
        "no_documents": "Пока не проиндексировано ни одного документа.",
        "col_title": "Название",
        "col_file": "Файл",
        "col_passages": "Фрагменты",
        "col_footnotes": "Сноски (источник есть?)",
        "kind_source": "источник [{label}]",
        "added": "{name} добавлен в docs/uploads/. {summary}",
        "upload_label": "Добавить документ (.txt, .md, .html; не больше 5 МБ)",
        "overwrite": "Заменить файл с тем же именем",
        "add": "Добавить в документы",
        "rebuild": "Перестроить индекс",
        "fetch": "Загрузить источники",
        "col_footnote": "Сноска",
        "col_url": "Адрес",
        "col_status": "Статус",
        "col_details": "Подробности",
        "no_fetchable": "В сносках документов нет адресов для загрузки.",
        "col_language": "Язык",
        "lang_ru": "русский",
        "lang_en": "английский",
        "lang_tr": "турецкий",
        "source_present": "источник сохранён",
        "source_absent": "источник не сохранён",
        "sources_present": "источники: сохранено {present} из {total}",
        "remove_label": "Убрать документ",
        "remove": "Убрать…",
        "confirm_remove": "Убрать «{title}» ({path})? Файл будет перемещён в docs/.removed/ "
        "(ничего не удаляется), а индекс перестроен без него.",
        "yes_remove": "Да, убрать",
        "cancel": "Отмена",
        "removed": "{path} убран (файл теперь {kept}). {summary}",
        "choose_document": "Сначала выберите документ.",
        "fetch_count": "загружено источников: {fetched} из {total}",
        "offline": "Ничего не загружено: ни один сайт источников недоступен, похоже, компьютер "
        "не подключён к интернету. Повторите, когда сеть появится, или сохраните текст "
        "источника вручную в {dir}/<метка>.md (для сноски [{label}]: {dir}/{label}.md); "
        "сохранённый файл считается так же, как загруженный.",
    },
    "tr": {
        "searching": "Aranıyor…",
        "went_wrong": "Bir şeyler ters gitti: ayrıntılar günlükte.",
        "searching_for": "“{q}” aranıyor…",
        "sources_for": "“{q}” için kaynaklar",
        "earlier": "Önceki: “{q}”",
        "panel_empty": "Bir soru sorun: her cevabın dayandığı pasajlar ve dipnot kaynakları "
        "burada görünür. Kaynağına gitmek için cevaptaki bir numaraya tıklayın.",
        "nothing_cited": "Bu belgelerde bunun cevabı yok, bu yüzden hiçbir şey alıntılanmadı.",
        "closest": "En yakın pasajlar (soruyu cevaplamıyorlar):",
        "show_source": "{n} numaralı kaynağı göster",
        "unsupported": "Alıntılanan pasaj bunu desteklemiyor:",
        "show": "paragrafı göster",
        "hide": "paragrafı gizle",
        "no_footnote": "Belgenin hiçbir dipnotu bu pasajı kapsamıyor.",
        "accessed": "erişim",
        "cited_passage": "Kaynak pasajı, [{n}] olarak alıntılandı",
        "closest_passage": "Kaynaktaki en yakın pasaj",
        "unknown_publisher": "yayıncı bilinmiyor",
        "quotes_in": "Alıntılar belgelerin dilinde: {lang}.",
        "use_llm_mode": "Türkçe bir cevap için Ayarlar'dan LLM cevap modunu seçin.",
        "set_llm": "Türkçe cevaplar için bir LLM ayarlayın: RAG_LLM=openai-like, "
        "RAG_LLM_BASE_URL, RAG_LLM_MODEL.",
        "index": "Dizin",
        "state_ok": "güncel",
        "state_missing": "oluşturulmadı",
        "state_stale": "güncel değil",
        "embedder": "Gömme modeli",
        "built_at": "Oluşturulma",
        "docs_folder": "Belge klasörü",
        "contents": "İçerik",
        "contents_value": "{documents} belge, {passages} pasaj, {footnotes} dipnot; kaynaklar: "
        "{total} kaynaktan {present} tanesi kayıtlı",
        "no_documents": "Henüz dizinlenmiş belge yok.",
        "col_title": "Başlık",
        "col_file": "Dosya",
        "col_passages": "Pasajlar",
        "col_footnotes": "Dipnotlar (kaynak var mı?)",
        "kind_source": "kaynak [{label}]",
        "added": "{name} docs/uploads/ klasörüne eklendi. {summary}",
        "upload_label": "Belge ekle (.txt, .md, .html; en fazla 5 MB)",
        "overwrite": "Aynı adlı dosyanın yerine koy",
        "add": "Belgelere ekle",
        "rebuild": "Dizini yeniden oluştur",
        "fetch": "Kaynakları indir",
        "col_footnote": "Dipnot",
        "col_url": "Adres",
        "col_status": "Durum",
        "col_details": "Ayrıntılar",
        "no_fetchable": "Belgelerin dipnotlarında indirilecek adres yok.",
        "col_language": "Dil",
        "lang_ru": "Rusça",
        "lang_en": "İngilizce",
        "lang_tr": "Türkçe",
        "source_present": "kaynak kayıtlı",
        "source_absent": "kaynak kayıtlı değil",
        "sources_present": "kaynaklar: {total} kaynaktan {present} tanesi kayıtlı",
        "remove_label": "Belgeyi kaldır",
        "remove": "Kaldır…",
        "confirm_remove": "“{title}” ({path}) kaldırılsın mı? Dosya docs/.removed/ klasörüne "
        "taşınır (hiçbir şey silinmez) ve dizin onsuz yeniden oluşturulur.",
        "yes_remove": "Evet, kaldır",
        "cancel": "Vazgeç",
        "removed": "{path} kaldırıldı (dosya artık {kept}). {summary}",
        "choose_document": "Önce kaldırılacak belgeyi seçin.",
        "fetch_count": "{total} kaynaktan {fetched} tanesi indirildi",
        "offline": "Hiçbir şey indirilmedi: kaynakların sitelerine ulaşılamadı, bu makine "
        "çevrimdışı görünüyor. Çevrimiçi olunca yeniden deneyin ya da kaynağın metnini elle "
        "{dir}/<etiket>.md olarak kaydedin ([{label}] dipnotu için: {dir}/{label}.md); "
        "kaydedilen dosya indirilmiş gibi sayılır.",
    },
}

# A language's name as each table's sentences use it ("in Russian", "на русском", "Rusça").
LANGUAGE_NAMES: dict[str, dict[str, str]] = {
    "en": {"ru": "Russian", "en": "English", "tr": "Turkish"},
    "ru": {"ru": "русском", "en": "английском", "tr": "турецком"},
    "tr": {"ru": "Rusça", "en": "İngilizce", "tr": "Türkçe"},
}


def labels_for(language: str) -> Mapping[str, str]:
    """The label table for ``language`` (English for a language without one)."""
    return LABELS.get(language, LABELS["en"])


def language_note(question: str, quotes: str, *, llm_configured: bool) -> str | None:
    """One line, in the question's language, for an answer that quotes documents written in
    another language; ``None`` when the languages agree (or either is not one of ours)."""
    if question == quotes or question not in LABELS or quotes not in LANGUAGE_NAMES[question]:
        return None
    labels = LABELS[question]
    said = labels["quotes_in"].format(lang=LANGUAGE_NAMES[question][quotes])
    return f"{said} {labels['use_llm_mode' if llm_configured else 'set_llm']}"
