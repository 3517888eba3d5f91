"""Tests of the backends that talk to remote OpenAI-compatible servers."""
