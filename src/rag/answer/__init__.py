"""The answer: features, ranking, the decision, quoting, the LLM, verification."""
