"""Start the web UI: ``python app.py``. Settings come from ``RAG_*``, the address from
``GRADIO_SERVER_NAME``/``GRADIO_SERVER_PORT`` (default http://127.0.0.1:7860)."""

import logging

from rag import Assistant, Settings
from rag.ui.app import AssistantUI

if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("rag").setLevel(logging.INFO)  # say when the index is (re)built
    AssistantUI(Assistant(Settings())).launch()
