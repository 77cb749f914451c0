"""The intake service's domain: the episode as the practice records it. Pure: no I/O, no clock reads."""
