"""The Gradio UI, built only from the Assistant's public methods."""
