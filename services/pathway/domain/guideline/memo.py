"""One way to memoise the engine's pure functions.

Every decision of an episode decides again from facts that are mostly as they were (the scope from the assessment
on, each measurement once taken), and a replay of a network decides thousands of episodes with the same few
values. A function whose arguments are frozen values and whose result is frozen can be worked out once and
shared: `memoised` keeps the last results per process, bounded. A `RuleSet` among the arguments is keyed by its
identity (its read-only mapping does not hash); the cache holds it alive, so its identity cannot be reused, and a
hit still needs an equal rule set.
"""

import functools

memoised = functools.lru_cache(maxsize=1 << 14)
