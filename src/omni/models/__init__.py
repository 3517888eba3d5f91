"""The embedded models: what ships in which package, where it is assembled, how it is verified."""
