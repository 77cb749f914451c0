"""Two ways to memoise the engine's pure functions, by what makes an argument the same.

Every decision of an episode decides again from facts that are mostly as they were (the scope from the assessment
on, each measurement once taken), and a replay of a network decides thousands of episodes with the same few
values. A function whose arguments are frozen values and whose result is frozen can be worked out once and
shared, bounded per process:

- `memoised` keys by value, for values that recur across episodes (a scope's findings, a score). A `RuleSet` among
  the arguments is keyed by its identity (its read-only mapping does not hash); the cache holds it alive, so its
  identity cannot be reused, and a hit still needs an equal rule set.
- `memoised_on_identity` keys by the arguments' identity, for one episode's own objects that every decision of
  the episode passes again (its referral, history and measurements as decoded): hashing and comparing those
  field by field would cost more than it saves. Equal arguments that are other objects are worked out again.
"""

import functools
from collections.abc import Callable
from typing import TypeVar

R = TypeVar("R")

memoised = functools.lru_cache(maxsize=1 << 14)


def memoised_on_identity(function: Callable[..., R]) -> Callable[..., R]:
    """`function` memoised by its arguments' identity, for the last few hundred calls. Each entry holds its
    arguments alive, so an identity in the cache cannot pass to another object while it is there."""
    cache: dict[tuple[int, ...], tuple[tuple[object, ...], R]] = {}

    @functools.wraps(function)
    def memo(*arguments: object) -> R:
        key = tuple(map(id, arguments))
        hit = cache.get(key)
        if hit is not None:
            return hit[1]
        result = function(*arguments)
        if len(cache) >= _ON_IDENTITY:
            cache.pop(next(iter(cache)), None)  # the oldest: the episodes decided before
        cache[key] = (arguments, result)
        return result

    return memo


_ON_IDENTITY = 256
