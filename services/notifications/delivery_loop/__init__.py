"""The delivery loop: `dispatcher` runs a lane per subscriber and decides each attempt's outcome (domain/),
`sender` makes one HTTP attempt; what they read and write goes through the store (`store/lanes.py`)."""
