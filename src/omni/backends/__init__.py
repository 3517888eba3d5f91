"""Backends: the small protocols every model stage implements, the registry, and the implementations."""
