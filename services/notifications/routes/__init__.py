"""Notifications HTTP routes: they translate between HTTP and the handlers' commands and the store's queries,
nothing else. Every route reaches the service through one dependency (`dependencies.py`): the caller, with
what `access.py` decided it may reach, the store, the clock and the settings. No SQL, no decisions here."""
