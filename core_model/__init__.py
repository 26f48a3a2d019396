"""Vidi's model side: media decoding, model backends, the conversation store and the CLI. Imports no Qt."""

__version__ = "0.1.0"
