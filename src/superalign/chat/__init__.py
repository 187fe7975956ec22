"""Chat models behind one async interface: local (transformers), OpenAI-compatible HTTP, and a mock, with a request cache."""
