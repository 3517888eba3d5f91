"""Audio plumbing: reading and writing files, resampling, PCM and G.711 codecs, levels."""
