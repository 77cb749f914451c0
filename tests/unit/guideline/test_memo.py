"""The engine's two memoisations: by value (`memoised`) and by identity (`memoised_on_identity`)."""

from __future__ import annotations

from services.pathway.domain.guideline import memo


def test_on_identity_works_out_once_per_object_and_again_for_an_equal_other_object():
    calls: list[tuple[int, ...]] = []

    @memo.memoised_on_identity
    def total(*numbers: tuple[int, ...]) -> int:
        calls.append(numbers[0])
        return sum(sum(n) for n in numbers)

    one, equal_to_one = (1, 2, 3), tuple([1, 2, 3])
    assert one == equal_to_one and one is not equal_to_one
    assert total(one) == 6 and total(one) == 6
    assert len(calls) == 1
    assert total(equal_to_one) == 6
    assert len(calls) == 2
    assert total(one, equal_to_one) == 12 and total(one, equal_to_one) == 12
    assert len(calls) == 3


def test_on_identity_keeps_a_bounded_number_of_results_and_the_objects_it_holds_alive():
    calls = 0

    @memo.memoised_on_identity
    def length(values: list[int]) -> int:
        nonlocal calls
        calls += 1
        return len(values)

    first = [0]
    length(first)
    for n in range(memo._ON_IDENTITY):
        length([n] * n)  # each a new object, dropped by the caller: the cache keeps it, so no id is reused
    assert calls == memo._ON_IDENTITY + 1
    length(first)  # pushed out by the newer ones: worked out again
    assert calls == memo._ON_IDENTITY + 2
