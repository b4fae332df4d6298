"""The matching pass's garbage-collector threshold when passes overlap."""

import gc

from reconciliation.matching import GC_THRESHOLD, _fewer_collections


def test_overlapping_passes_restore_threshold():
    before = gc.get_threshold()
    first = _fewer_collections()
    second = _fewer_collections()

    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)
    during_second = gc.get_threshold()
    second.__exit__(None, None, None)

    assert during_second[0] == GC_THRESHOLD
    assert gc.get_threshold() == before


def test_pass_that_raises_restores_threshold():
    before = gc.get_threshold()

    try:
        with _fewer_collections():
            assert gc.get_threshold()[0] == GC_THRESHOLD
            raise RuntimeError("pass failed")
    except RuntimeError:
        pass

    assert gc.get_threshold() == before
