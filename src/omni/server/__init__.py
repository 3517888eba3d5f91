"""The server: the OpenAI Realtime WebSocket API and OpenAI-compatible REST endpoints on the session engine."""
