"""The team server caps glibc's malloc arenas, so its RSS stays flat over repeated transfers
(bench/yatai_s3_bench.py --rounds 5 measures it); an operator's MALLOC_ARENA_MAX wins."""
from __future__ import annotations

import platform

import pytest

from bentoml.yatai.service import limit_malloc_arenas


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt(M_ARENA_MAX) is glibc's")
def test_the_arenas_are_capped_on_glibc(monkeypatch):
    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    assert limit_malloc_arenas(8) is True  # 8: the default cap of a 1-core glibc process, harmless here


def test_an_operators_setting_wins(monkeypatch):
    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    assert limit_malloc_arenas() is False
