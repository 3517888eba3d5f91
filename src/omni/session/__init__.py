"""The session engine: turn taking, replies with one interrupt handle each, conversation context, tools."""
