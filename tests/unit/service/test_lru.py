"""The bounded per-process cache (wave keys by wave: waves keep coming, memory must not)."""

from __future__ import annotations

import pytest

from service.lru import LRUCache


def test_the_least_recently_used_entry_goes_first():
    cache: LRUCache[str, int] = LRUCache(2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1  # "a" is now the most recent
    cache.put("c", 3)
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (1, None, 3)
    assert len(cache) == 2


def test_it_never_grows_past_its_size():
    cache: LRUCache[int, int] = LRUCache(256)
    for i in range(10_000):
        cache.put(i, i)
    assert len(cache) == 256 and cache.get(9_999) == 9_999 and cache.get(0) is None


def test_a_size_below_one_is_refused():
    with pytest.raises(ValueError):
        LRUCache(0)
