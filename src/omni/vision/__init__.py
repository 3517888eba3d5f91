"""Seeing: images decoded and checked, and what the embedded vision parts find in them (text, objects, the gist,
faces, simple facts), gathered into a :class:`~omni.vision.scene.Scene` the LLM reads as a short note."""
