"""store.py on its own: a real embedded Chroma under tmp_path."""

from __future__ import annotations

import numpy as np
import pytest

from assistant.store import READ_PAGE, VectorStore
from assistant.types import Passage


@pytest.mark.slow
def test_a_generation_larger_than_one_read_comes_back_whole_and_aligned(make_settings, tmp_path):
    # A single get of a whole collection fails in Chroma past SQLite's 32,766 variables
    # ("too many SQL variables"): whole generations are read in pages of READ_PAGE.
    n = 33_000
    assert n > READ_PAGE, "the generation spans several reads"
    passages = [
        Passage(
            id=f"d{i // 100:04d}#{i % 100:04d}",
            doc_id=f"d{i // 100:04d}",
            title="t",
            language="fr",
            year=None,
            section=None,
            text=f"passage {i}",
            start=0,
            end=1,
            window=f"passage {i}",
            ordinal=i % 100,
        )
        for i in range(n)
    ]
    rng = np.random.default_rng(1)
    vectors = rng.standard_normal((n, 8)).astype(np.float32)
    store = VectorStore(make_settings())
    store.add("g1", passages, vectors, batch=5000)
    got, got_vectors = store.all_passages("g1", with_vectors=True)
    assert [p.id for p in got] == [p.id for p in passages], "every passage once, in document order, across pages"
    assert np.allclose(got_vectors, vectors), "each vector stays with its passage across pages"
