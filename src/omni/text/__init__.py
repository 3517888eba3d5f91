"""Text helpers: speakable chunking of streamed text and language detection."""
