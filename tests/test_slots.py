"""The slots a run by blocks keeps its items in (`simulator/network/slots.py`): a slot is given back only
once nothing will read its item again, with its outputs handed to the station's arrays by item."""
from __future__ import annotations

import inspect
from types import SimpleNamespace

import numpy as np
import pytest

from simulator.network import slots
from simulator.network.numbered_loop import numbered_loop
from simulator.network.slots import Crowded, Slots

_NAMES = list(inspect.signature(numbered_loop).parameters)[:-2]  # the loop's arrays, not `state` and `clock`
_OUTPUTS_FROM = _NAMES.index("read_start")


def loop_arrays(**given: np.ndarray) -> tuple[list, list]:
    """The loop's columns and outputs as `_run_numbered` makes them, empty but for those given."""
    whole = [given.get(name, np.zeros(0)) for name in _NAMES]
    return whole[:_OUTPUTS_FROM], whole[_OUTPUTS_FROM:]


@pytest.fixture
def kept(monkeypatch):
    """Four studies (0-3) and two items past them: study 1's second read (4), study 0's second opinion (5);
    study 2's late AI result comes first of the results. Slots for all; the station's outputs by item."""
    monkeypatch.setattr(slots, "SPARE", 1)
    monkeypatch.setattr(slots, "_FLOOR", 0)
    station = SimpleNamespace(n_cohort=4, n_items=6)
    partner = np.array([-1, 4, -1, -1, 1, -1], dtype=np.int32)
    whole = dict(read_start=np.full(6, np.nan), reported_at=np.full(6, np.nan),
                 reader_of=np.full(6, -1, dtype=np.int32))
    columns, outputs = loop_arrays(
        ready=np.array([1.0, 2.0, 3.0, 4.0]), more_ready=np.array([2.0, np.nan]), minutes=np.array([5.0, 6, 7, 8]),
        more_minutes=np.array([9.0, 10.0]), partner=partner, opinion_of=np.array([5, -1, -1, -1], dtype=np.int32),
        excluded=np.full(6, -1, dtype=np.int32), result_item=np.array([2]), **whole)
    kept = Slots(station, 4, np.array([2]))
    kept.arrays(columns, outputs)
    kept.bind(columns + outputs)
    return kept, columns + outputs, whole


def at(args: list, name: str) -> np.ndarray:
    return args[_NAMES.index(name)]


def test_a_slot_is_given_back_once_nothing_reads_its_item(kept) -> None:
    kept, args, whole = kept
    slot = kept.take(np.array([0, 1, 4, 2]))  # in the order they enter: a second read right after its study
    s0, s1, s4, s2 = slot.tolist()
    s5 = int(at(args, "opinion_of")[s0])  # study 0's opinion took a slot too
    assert kept.item(s5) == 5 and at(args, "partner")[s1] == s4 and at(args, "partner")[s4] == s1
    assert at(args, "ready")[s2] == 3.0 and at(args, "more_minutes")[s4 - kept.studies] == 9.0
    assert at(args, "more_minutes")[s5 - kept.studies] == 10.0 and at(args, "result_item")[0] == s2
    reported, reader = at(args, "reported_at"), at(args, "reader_of")
    for s, t in ((s0, 10.0), (s1, 11.0), (s2, 12.0)):
        reported[s], reader[s] = t, 7
    kept.give_back(0)  # study 0 reported; study 1's second read is not, study 2's result has not come
    assert kept.item(s0) == -1 and whole["reported_at"][0] == 10.0 and whole["reader_of"][0] == 7
    assert [kept.item(s) for s in (s1, s4, s2, s5)] == [1, 4, 2, 5]
    assert np.isnan(whole["reported_at"][[1, 2, 4]]).all()
    reported[s4] = 13.0
    kept.give_back(0)  # the double read's two reads together
    assert kept.item(s1) == kept.item(s4) == -1 and whole["reported_at"][[1, 4]].tolist() == [11.0, 13.0]
    assert kept.item(s2) == 2
    kept.give_back(1)  # study 2's result came
    assert kept.item(s2) == -1 and whole["reported_at"][2] == 12.0
    kept.finish()  # the opinion, never read: its outputs as they are
    assert kept.item(s5) == -1 and np.isnan(whole["reported_at"][5])


def test_a_slot_taken_again_starts_as_nothing_yet(kept) -> None:
    kept, args, whole = kept
    s0 = int(kept.take(np.array([0]))[0])
    at(args, "reported_at")[s0], at(args, "read_start")[s0], at(args, "reader_of")[s0] = 10.0, 9.0, 3
    at(args, "excluded")[s0] = 2
    kept.give_back(0)
    s3 = int(kept.take(np.array([3]))[0])
    assert s3 == s0  # the slot given back is the next taken
    assert np.isnan(at(args, "reported_at")[s3]) and np.isnan(at(args, "read_start")[s3])
    assert at(args, "reader_of")[s3] == -1 and at(args, "excluded")[s3] == -1 and at(args, "ready")[s3] == 4.0


def test_more_items_alive_than_slots_are_refused(kept) -> None:
    kept, args, whole = kept
    kept.take(np.array([0, 1, 4, 2]))
    with pytest.raises(Crowded):
        kept.take(np.array([3, 3]))  # (four study slots, three taken)
