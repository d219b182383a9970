"""Each rule of the reading station (docs/model.md, "Rules"), on a small cohort built by hand, so that a
change that flips the rule fails here with the rule's name, not only as a changed digest. Every case runs
on each form of the station the model may choose (tests/hand.py). docs/testing.md lists the flips tried
and the test that caught each."""
from __future__ import annotations

import copy
import math
from typing import Any

import pytest

from simulator.triage import Rank

from .conftest import base_dict, make
from .hand import run_by_hand


def desk(staff: int = 1, **extra: Any) -> dict:
    """One chest-CT study type, no AI, readers round the clock; a day, no warm-up."""
    data = copy.deepcopy(base_dict())
    data.update(horizon_days=1, warmup_days=0, policy={"triage": "fifo"})
    data["study_types"]["chest_ct"]["ai"] = None
    data["ai_services"] = {}
    data["pools"]["readers"]["shifts"] = [{"start": "00:00", "end": "24:00", "staff": staff}]
    data.update(extra)
    return data


def reader_of(rows: list[dict], index: int) -> str:
    return rows[index]["reader"]


def each(data: dict, studies: list[dict]):
    """The studies' rows of every form of the station."""
    return [rows for rows, _ in run_by_hand(make(data), studies)]


def test_a_ready_study_goes_to_the_longest_idle_reader() -> None:
    """Two readers; the first is free at 5, the second at 7; a study ready at 10 goes to the first
    (flip: the most recently idle reader would take it)."""
    for rows in each(desk(staff=2), [{"ready": 0, "read": 5}, {"ready": 0, "read": 7}, {"ready": 10, "read": 1}]):
        assert reader_of(rows, 2) == reader_of(rows, 0) != reader_of(rows, 1)


def test_the_first_pool_in_scenario_order_takes_a_study_both_may_read() -> None:
    data = desk()
    data["pools"] = {"first": copy.deepcopy(data["pools"]["readers"]), "second": copy.deepcopy(data["pools"]["readers"])}
    for rows in each(data, [{"ready": 1, "read": 1}]):
        assert reader_of(rows, 0).startswith("first/")


def test_equal_ranks_are_read_in_the_order_they_entered() -> None:
    """One reader busy until 10; two studies of the same rank (same class, same key) wait; the one that
    entered first is read first (flip: the last entered)."""
    for rows in each(desk(), [{"ready": 0, "read": 10}, {"ready": 4, "read": 1}, {"ready": 4, "read": 1}]):
        assert rows[1]["read_start"] == 10.0 and rows[2]["read_start"] == 11.0


def test_a_release_comes_before_a_study_becoming_ready_at_the_same_minute() -> None:
    """One reader reads until 10; a routine study waits since 5; a STAT study becomes ready at exactly 10.
    The release comes first, so the reader takes what waits (the routine one) before the STAT study has
    entered (flip: with the seize first, the STAT study would be taken at 10)."""
    studies = [{"ready": 0, "read": 10}, {"ready": 5, "read": 3}, {"ready": 10, "read": 2, "referral": "stat"}]
    for rows in each(desk(), studies):
        assert rows[1]["read_start"] == 10.0 and rows[2]["read_start"] == 13.0


def test_a_reader_whose_shift_ends_finishes_the_study_in_hand_and_starts_nothing_more() -> None:
    """A reader of the 00:00-08:00 shift opens a 60-minute study at 07:30: it is signed at 08:30 by that
    reader, with 30 minutes of overtime. The 08:00 reader takes what waited at 08:00 (until 09:00); a study
    ready at 08:10 still waits when the night reader finishes at 08:30, and waits on for the day reader
    (flip: the leaving reader takes it after finishing)."""
    data = desk()
    data["pools"]["readers"]["shifts"] = [{"start": "00:00", "end": "08:00", "staff": 1},
                                          {"start": "08:00", "end": "16:00", "staff": 1}]
    studies = [{"ready": 450, "read": 60}, {"ready": 465, "read": 60}, {"ready": 490, "read": 5}]
    for rows, duties in run_by_hand(make(data), studies):
        night, waited, later = rows
        assert night["reported_at"] == 510.0 and night["reader"].split("/")[1] == "00:00-08:00"
        assert waited["read_start"] == 480.0 and waited["reader"].split("/")[1] == "08:00-16:00"
        assert later["read_start"] == 540.0 and later["reader"] == waited["reader"]
        first = next(d for d in duties if d["shift"] == "00:00-08:00" and d["start"] == 0.0)
        assert first["overtime_minutes"] == pytest.approx(30.0)


def test_an_idle_reader_leaves_when_the_duty_ends() -> None:
    """The night reader is idle when their shift ends at 08:00; a study ready at 08:00 and one at 09:00
    wait for the reader of the 10:00 shift (flip: the night reader, still idle, would take them)."""
    data = desk()
    data["pools"]["readers"]["shifts"] = [{"start": "00:00", "end": "08:00", "staff": 1},
                                          {"start": "10:00", "end": "18:00", "staff": 1}]
    for rows in each(data, [{"ready": 60, "read": 5}, {"ready": 480, "read": 5}, {"ready": 540, "read": 5}]):
        assert [row["read_start"] for row in rows] == [60.0, 600.0, 605.0]
        assert rows[1]["reader"].split("/")[1] == "10:00-18:00"


@pytest.mark.parametrize("mode", ["pull", "push"])
def test_a_second_opinion_signed_as_a_duty_ends_does_not_go_to_its_idle_reader(mode: str) -> None:
    """A reader of 00:00-01:00 is idle at 01:00 when another signs a report that asks for a second opinion
    (releases come before a shift's end at the same minute): the opinion waits for the 02:00 reader, with
    push too, though the leaving reader has the least load (flips: the leaving reader, still idle at that
    minute, would take it; with push, would be given it)."""
    data = desk(second_opinions={"fraction": 1.0, "of": "*", "read_minutes": {"dist": "fixed", "value": 5}},
                routing={"mode": mode})
    data["pools"]["readers"]["reads"] = ["chest_ct", "second_opinion"]
    data["pools"]["readers"]["shifts"] = [{"start": "00:00", "end": "01:00", "staff": 1},
                                          {"start": "00:00", "end": "24:00", "staff": 1},
                                          {"start": "02:00", "end": "24:00", "staff": 1}]
    studies = [{"ready": 0, "read": 5}, {"ready": 0, "read": 60, "second_opinion": True, "second_read": 5}]
    for rows in each(data, studies):
        opinion = next(r for r in rows if r["kind"] == "second_opinion")
        assert opinion["read_start"] == 120.0 and opinion["reader"].split("/")[1] == "02:00-24:00"


def test_a_second_opinion_is_never_read_by_the_primary_reader() -> None:
    """Two readers; the primary reader is the only one idle when the second opinion enters: it waits for
    the other reader (flip: the primary reader would take it at once)."""
    data = desk(staff=2, second_opinions={"fraction": 1.0, "of": "*", "read_minutes": {"dist": "fixed", "value": 5}})
    data["pools"]["readers"]["reads"] = ["chest_ct", "second_opinion"]
    studies = [{"ready": 0, "read": 10, "second_opinion": True, "second_read": 5}, {"ready": 0, "read": 30}]
    for rows in each(data, studies):
        primary = rows[0]
        opinion = next(r for r in rows if r["kind"] == "second_opinion")
        assert opinion["reader"] != primary["reader"] and opinion["read_start"] == 30.0


def test_pre_emption_interrupts_the_lowest_class_started_last() -> None:
    """Two readers in routine reads, started at 0 and at 1; a STAT study at 2 interrupts the read started at
    1 (flip: the one started first)."""
    data = desk(staff=2, policy={"triage": "fifo", "preemptive": True})
    studies = [{"ready": 0, "read": 60}, {"ready": 1, "read": 60}, {"ready": 2, "read": 5, "referral": "stat"}]
    for rows in each(data, studies):
        assert rows[2]["read_start"] == 2.0 and rows[2]["reader"] == rows[1]["reader"]
        assert rows[0]["reported_at"] == 60.0 and rows[1]["reported_at"] == 66.0


class SecondReadsFirst:
    """FIFO, but the second read of a double-read study before every first read."""

    name = "second-reads-first"

    def rank(self, item, now: float) -> Rank:
        return Rank(0 if item.kind == "double_read" else 1, item.ready_at, item.kind)


def test_pre_emption_never_interrupts_a_reader_who_may_not_read_the_item() -> None:
    """Two readers: one in a routine read since 0, the other since 1 in the first read of a double-read
    study, whose second read (ranked first) enters then. The one started last is its first reader, who may
    not read it: the other read is interrupted (flip: the reader who may not read it is interrupted)."""
    data = desk(staff=2, policy={"triage": "fifo", "preemptive": True})
    data["study_types"]["chest_ct"]["double_reading"] = {"read_minutes": {"dist": "fixed", "value": 5}}
    studies = [{"ready": 0, "read": 60, "double_read": float("nan")}, {"ready": 1, "read": 30, "double_read": 5}]
    for rows, _ in run_by_hand(make(data), studies, SecondReadsFirst()):
        routine, first = rows[0], rows[1]
        second = next(r for r in rows if r["kind"] == "double_read")
        assert second["read_start"] == 1.0 and second["reader"] == routine["reader"]
        assert first["reader"] != routine["reader"] and routine["reported_at"] == 65.0


def test_a_pre_empted_study_goes_back_to_the_head_of_its_class() -> None:
    """One reader under score bands read likeliest first: a study of low score is being read when a likelier
    one of the same band arrives, then a STAT study interrupts; when the STAT read ends, the interrupted
    study resumes before the likelier one (flip: it would re-enter by its key, after it)."""
    data = desk(policy={"triage": "score", "preemptive": True,
                        "score": {"bands": {"any": 0.0}, "within": "score", "unscored": "any"}})
    data["study_types"]["chest_ct"]["ai"] = "ct_ai"
    data["ai_services"] = {"ct_ai": {"sensitivity": 0.9, "specificity": 0.9}}
    studies = [{"ready": 0, "read": 60, "score": 0.1}, {"ready": 1, "read": 10, "score": 0.9},
               {"ready": 5, "read": 5, "referral": "stat"}]
    for rows in each(data, studies):
        low, likely, stat = rows
        assert stat["read_start"] == 5.0 and low["reported_at"] == 65.0 and likely["read_start"] == 65.0


def test_a_free_reader_takes_the_best_head_of_their_lanes() -> None:
    """A reader of two lanes (chest CT, read by them alone; head CT, shared with another pool whose reader
    is away) becomes free with a routine head CT and a STAT chest CT waiting: the STAT one is read first
    (flip: the worse head)."""
    data = desk()
    data["study_types"]["head_ct"] = copy.deepcopy(data["study_types"]["chest_ct"])
    data["pools"]["readers"]["reads"] = ["chest_ct", "head_ct"]
    data["pools"]["neuro"] = {"reads": ["head_ct"], "shifts": [{"start": "20:00", "end": "22:00", "staff": 1}]}
    studies = [{"ready": 0, "read": 10}, {"ready": 2, "read": 5, "type": "head_ct"},
               {"ready": 3, "read": 5, "referral": "stat"}]
    for rows in each(data, studies):
        assert rows[2]["read_start"] == 10.0 and rows[1]["read_start"] == 15.0


class ByKind:
    """First ready, first read, labelled by kind; with no block form: asked item by item."""

    name = "by-kind"

    def rank(self, item, now: float) -> Rank:
        return Rank(1, item.ready_at, item.kind)


def test_an_ai_normal_study_skips_its_primary_read_for_an_audit() -> None:
    """The autonomous-normal lane below 0.1 for chest CT, read by an audit pool alone: a routine study scored
    0.05 is audited there, for its audit minutes, and its second read is not made; one scored at 0.1 itself,
    a STAT one scored 0.05 and an unscored one are read by the readers; the audit is ranked as an audit,
    by a built-in's block form and by a policy asked item by item (flips: the rule's `<` as `<=`; STAT
    audited; the audit read for the primary read's minutes; an audit's second read made; an audit ranked as
    the primary read it skipped, by either form)."""
    data = desk(staff=2)
    data["study_types"]["chest_ct"].update(ai="ct_ai", double_reading={"read_minutes": {"dist": "fixed", "value": 5}})
    data["ai_services"] = {"ct_ai": {"sensitivity": 0.9, "specificity": 0.9}}
    data["pools"]["auditors"] = {"reads": ["audit"], "shifts": [{"start": "00:00", "end": "24:00", "staff": 1}]}
    data["routing"] = {"autonomous_normal": {"study_types": ["chest_ct"], "below": 0.1, "target": {"hours": 48}}}
    studies = [{"ready": 0, "read": 10, "score": 0.05, "audit": 2, "double_read": 5},
               {"ready": 1, "read": 10, "score": 0.1, "audit": 2},
               {"ready": 2, "read": 10, "score": 0.05, "audit": 2, "referral": "stat"},
               {"ready": 3, "read": 10, "audit": 2}]
    for rows, _ in [*run_by_hand(make(data), studies), *run_by_hand(make(data), studies, ByKind())]:
        audit, *read = rows[:4]
        assert audit["kind"] == "audit" and audit["reader"].startswith("auditors/") and audit["reported_at"] == 2.0
        assert audit["priority"] == "audit"
        assert all(r["kind"] == "primary" and r["reader"].startswith("readers/") for r in read)
        assert len(rows) == 4  # no second read


def district(**routing: Any) -> dict:
    """Two sites: `main`, read by the centre alone, and `north`, with a local reader of its own; one reader
    in each pool round the clock; pull dispatch with the router's settings `routing`."""
    data = desk()
    data["sites"] = {"main": {"weight": 1}, "north": {"weight": 1}}
    shift = [{"start": "00:00", "end": "24:00", "staff": 1}]
    data["pools"] = {"north_local": {"site": "north", "reads": ["chest_ct"], "shifts": shift},
                     "centre": {"reads": ["chest_ct"], "shifts": copy.deepcopy(shift)}}
    data["routing"] = {"mode": "pull", **routing}
    return data


def pool_of(row: dict) -> str:
    return row["reader"].split("/")[0]


def routed(data: dict, studies: list[dict], policy=None) -> list[list[dict]]:
    """`each` (under `policy`, else the scenario's), where the model runs the numbered loop: as Python,
    compiled, and the layered station."""
    found = [rows for rows, _ in run_by_hand(make(data), studies, policy)]
    assert len(found) == 3
    return found


def test_a_sites_study_waits_for_its_own_readers_until_the_overflow_time_then_either_may_take_it() -> None:
    """Overflow after 20 minutes: a north study waiting since 5 is opened to the centre at 25, whose idle
    reader takes it then; one the local reader took at 10 (before its time) is not moved (flips: never
    opened; opened at once; opened though taken meanwhile)."""
    studies = [{"ready": 0, "read": 10, "site": "north"}, {"ready": 1, "read": 100, "site": "north"},
               {"ready": 5, "read": 5, "site": "north"}]
    for rows in routed(district(overflow_after={"minutes": 20}), studies):
        first, taken, opened = rows
        assert pool_of(first) == pool_of(taken) == "north_local" and taken["read_start"] == 10.0
        assert taken["reported_at"] == 110.0
        assert pool_of(opened) == "centre" and opened["read_start"] == 25.0


def test_a_study_opened_to_the_centre_takes_its_place_there_by_its_rank() -> None:
    """First ready, first read: a north study ready at 1, opened at 21, is read by the centre's reader at 30
    before the centre's own study ready at 10 (flips: left on its site's lane; placed after what waits)."""
    studies = [{"ready": 0, "read": 30, "site": "main"}, {"ready": 0, "read": 100, "site": "north"},
               {"ready": 1, "read": 5, "site": "north"}, {"ready": 10, "read": 5, "site": "main"}]
    for rows in routed(district(overflow_after={"minutes": 20}), studies):
        opened, own = rows[2], rows[3]
        assert pool_of(opened) == "centre" and opened["read_start"] == 30.0 and own["read_start"] == 35.0


def test_at_night_new_studies_go_to_the_centre_and_those_waiting_locally_are_opened_to_it() -> None:
    """Night 01:00-02:00: a north study waiting since 00:30 is opened to the centre at 01:00; one ready at
    01:10 goes to the centre; one ready at 02:10, after the night, waits for the local reader (flips: the
    night's studies left local; the waiting one not opened at the night's start)."""
    studies = [{"ready": 0, "read": 200, "site": "north"}, {"ready": 30, "read": 5, "site": "north"},
               {"ready": 70, "read": 5, "site": "north"}, {"ready": 130, "read": 5, "site": "north"}]
    for rows in routed(district(night_to_centre={"start": "01:00", "end": "02:00"}), studies):
        _, waiting, night, day = rows
        assert pool_of(waiting) == "centre" and waiting["read_start"] == 60.0
        assert pool_of(night) == "centre" and night["read_start"] == 70.0
        assert pool_of(day) == "north_local" and day["read_start"] == 200.0


def test_a_late_ai_result_ranks_a_study_opened_to_the_centre_where_it_waits() -> None:
    """AI-positive first; the centre reads until 40. A north study opened at 21 whose AI result (positive)
    comes at 30 is ranked again in the lane it was opened to, and read by the centre at 40; one whose
    result came at 10, before it was opened at 22, enters the centre's lane ranked with it, and is read at 45
    before the centre's own negative study ready at 0.5; one ranked again by its result at 45 on its site's
    lane is opened at 61 to the centre's idle reader, and read once (flips: ranked again on its site's lane;
    opened with the rank it had before its result; its entry on its site's lane left there)."""
    data = district(overflow_after={"minutes": 20})
    data["study_types"]["chest_ct"]["ai"] = "ct_ai"
    data["ai_services"] = {"ct_ai": {"sensitivity": 0.9, "specificity": 0.9}}
    data["policy"] = {"triage": "ai_priority"}
    negative, positive = {"score": 0.01}, {"score": 0.9, "positive": True}
    studies = [{"ready": 0, "read": 40, "site": "main", **negative},
               {"ready": 0, "read": 100, "site": "north", **negative},
               {"ready": 0.5, "read": 5, "site": "main", **negative},
               {"ready": 1, "read": 5, "site": "north", "result": 30, **positive},
               {"ready": 2, "read": 5, "site": "north", "result": 10, **positive},
               {"ready": 41, "read": 5, "site": "north", "result": 45, **positive}]
    for rows in routed(data, studies):
        own, after, before, handed = rows[2:6]
        assert pool_of(after) == "centre" and after["read_start"] == 40.0
        assert pool_of(before) == "centre" and before["read_start"] == 45.0 and own["read_start"] == 50.0
        assert pool_of(handed) == "centre" and handed["read_start"] == 61.0 and handed["reported_at"] == 66.0


def pushed(staff: int = 2, **extra: Any) -> dict:
    """`desk` with push dispatch: each study goes to a reader on arrival (`dispatch.Push`)."""
    return desk(staff=staff, routing={"mode": "push"}, **extra)


def test_push_gives_a_study_to_the_least_loaded_reader_where_it_waits_for_them() -> None:
    """Two readers: the first study goes to the first (equal loads: the first listed), the second to the
    other (less load); a third, at 1, finds equal loads and goes to the first, in whose own lane it waits
    until 10 though the other is free from 5 (flips: ties to the last; the most loaded; taken by a free
    reader as with pull)."""
    for rows in routed(pushed(), [{"ready": 0, "read": 10}, {"ready": 0, "read": 5}, {"ready": 1, "read": 1}]):
        first, other, third = rows
        assert first["reader"] != other["reader"] and other["read_start"] == 0.0
        assert third["reader"] == first["reader"] and third["read_start"] == 10.0


def test_push_counts_a_study_taken_from_the_shared_lane_against_its_reader() -> None:
    """Readers from 08:00: a study ready at 0 waits in the shared lane, and the first reader on duty takes
    it at 08:00; a study at 08:01 goes to the other, idle and less loaded, at once (flip: the taken study
    not counted, equal loads give it to the first, busy until 08:30)."""
    data = pushed()
    data["pools"]["readers"]["shifts"] = [{"start": "08:00", "end": "24:00", "staff": 2}]
    for rows in routed(data, [{"ready": 0, "read": 30}, {"ready": 481, "read": 5}]):
        waited, new = rows
        assert waited["read_start"] == 480.0 and new["read_start"] == 481.0 and new["reader"] != waited["reader"]


def test_push_hands_a_leaving_readers_waiting_work_to_a_reader_on_duty() -> None:
    """A reader of 00:00-01:00, busy until 90 with a study pushed at 0, has another pushed to them at 1;
    at 01:00 it goes to the reader on duty with the least load (busy until 120), in whose own lane it
    waits: it is read by them at 120, not by the reader who comes at 01:40 (flips: left in the leaving
    reader's lane, never read; put in the shared lane, taken at 01:40)."""
    data = pushed()
    data["pools"]["readers"]["shifts"] = [{"start": "00:00", "end": "01:00", "staff": 1},
                                          {"start": "00:00", "end": "24:00", "staff": 1},
                                          {"start": "01:40", "end": "24:00", "staff": 1}]
    for rows in routed(data, [{"ready": 0, "read": 90}, {"ready": 0, "read": 120}, {"ready": 1, "read": 5}]):
        leaving, staying, handed = rows
        assert leaving["reader"].split("/")[1] == "00:00-01:00" and leaving["reported_at"] == 90.0
        assert handed["reader"] == staying["reader"] and handed["read_start"] == 120.0


def test_push_assigns_a_study_anew_when_its_late_ai_result_comes() -> None:
    """First come, first read (the result leaves the rank as it was): a study pushed at 1 to the first
    reader, busy until 30, is assigned anew when its AI result comes at 10, to the other reader, idle since
    5, who reads it then; a study at 11 finds equal loads again and waits for the first reader (flips: kept
    where it waited, as with pull; the first reader's load not given back)."""
    data = pushed()
    data["study_types"]["chest_ct"]["ai"] = "ct_ai"
    data["ai_services"] = {"ct_ai": {"sensitivity": 0.9, "specificity": 0.9}}
    studies = [{"ready": 0, "read": 30}, {"ready": 0, "read": 5}, {"ready": 1, "read": 5, "result": 10, "score": 0.5},
               {"ready": 11, "read": 1}]
    for rows in routed(data, studies):
        first, other, scored, later = rows
        assert scored["reader"] == other["reader"] and scored["read_start"] == 10.0
        assert later["reader"] == first["reader"] and later["read_start"] == 30.0


def test_push_pre_empts_only_the_reader_a_study_was_pushed_to() -> None:
    """Two readers in routine reads started at 0 and at 1; a STAT study at 2 goes to the first (equal
    loads) and interrupts their read, not the one started last, as pull would (flip: any reader's)."""
    data = pushed(policy={"triage": "fifo", "preemptive": True})
    studies = [{"ready": 0, "read": 60}, {"ready": 1, "read": 60}, {"ready": 2, "read": 5, "referral": "stat"}]
    for rows in routed(data, studies):
        first, second, stat = rows
        assert stat["reader"] == first["reader"] and stat["read_start"] == 2.0
        assert first["reported_at"] == 65.0 and second["reported_at"] == 61.0


def test_push_keeps_a_pre_empted_read_with_its_reader() -> None:
    """A STAT study pushed to the first reader interrupts their routine read, which waits in their own lane
    for them (until 32), though the other reader is free from 11 (flip: back on the shared lane, taken at
    11 by the other)."""
    data = pushed(policy={"triage": "fifo", "preemptive": True})
    studies = [{"ready": 0, "read": 60}, {"ready": 1, "read": 10}, {"ready": 2, "read": 30, "referral": "stat"}]
    for rows in routed(data, studies):
        interrupted, other, stat = rows
        assert stat["reader"] == interrupted["reader"] != other["reader"]
        assert interrupted["reported_at"] == 90.0


def test_push_sends_a_double_read_studys_second_read_past_the_reader_its_first_waits_for() -> None:
    """Workload units 1 for chest CT, 100 for head CT: the first read of a double-read study, pushed at 1
    to the first reader (busy until 30, less loaded), makes its second read go to the other, busy with a
    head CT until 10, who reads it then (flip: the second read pushed to the first reader too, who may
    not read both: never read)."""
    data = pushed()
    data["study_types"]["head_ct"] = copy.deepcopy(data["study_types"]["chest_ct"])
    data["study_types"]["chest_ct"]["double_reading"] = {"read_minutes": {"dist": "fixed", "value": 5}}
    data["pools"]["readers"]["reads"] = ["chest_ct", "head_ct"]
    data["routing"]["workload"] = {"chest_ct": 1, "head_ct": 100}
    studies = [{"ready": 0, "read": 30, "double_read": float("nan")}, {"ready": 0, "read": 10, "type": "head_ct"},
               {"ready": 1, "read": 5, "double_read": 5}]
    for rows in routed(data, studies):
        first_reader, other, study = rows[:3]
        second = next(r for r in rows if r["kind"] == "double_read")
        assert study["reader"] == first_reader["reader"] and study["read_start"] == 30.0
        assert second["reader"] == other["reader"] and second["read_start"] == 10.0


def test_push_ranks_a_leaving_readers_waiting_work_as_it_stands_then() -> None:
    """AI-positive first. A reader of 00:00-01:00 holds, waiting, an AI-positive study (its result came at 5,
    while it waited for them) and a negative one; at 01:00 both go to the other reader, after two
    negatives already waiting for them, and the positive one is read first, at 120 (flip: ranked without
    its result, after the negatives ready before it)."""
    data = pushed(policy={"triage": "ai_priority"})
    data["study_types"]["chest_ct"]["ai"] = "ct_ai"
    data["ai_services"] = {"ct_ai": {"sensitivity": 0.9, "specificity": 0.9}}
    data["pools"]["readers"]["shifts"] = [{"start": "00:00", "end": "01:00", "staff": 1},
                                          {"start": "00:00", "end": "24:00", "staff": 1}]
    negative = {"score": 0.01}
    studies = [{"ready": 0, "read": 90, **negative}, {"ready": 0, "read": 120, **negative},
               {"ready": 0.5, "read": 5, **negative}, {"ready": 1, "read": 5, **negative},
               {"ready": 2, "read": 5, "score": 0.9, "positive": True, "result": 5}]
    for rows in routed(data, studies):
        staying, positive = rows[1], rows[4]
        assert positive["reader"] == staying["reader"] and positive["read_start"] == 120.0
        assert [rows[2]["read_start"], rows[3]["read_start"]] == [125.0, 130.0]


class LastFirst:
    """STAT first, then the last ready first."""

    name = "last-first"

    def rank(self, item, now: float) -> Rank:
        return Rank(0 if item.referral == "stat" else 1, -item.ready_at, item.referral)


def test_push_hands_on_a_pre_empted_read_at_the_head_of_its_class() -> None:
    """Last ready, first read. A STAT study pushed at 10 to the reader of 00:00-01:00 interrupts their read
    of a study ready at 0, which waits in their lane; at 01:00 it goes to the other reader, where a study
    ready at 20 waits, and is resumed first, at 80 (flip: ranked by its key, after the later study)."""
    data = pushed(policy={"triage": "fifo", "preemptive": True})
    data["pools"]["readers"]["shifts"] = [{"start": "00:00", "end": "01:00", "staff": 1},
                                          {"start": "00:00", "end": "24:00", "staff": 1}]
    studies = [{"ready": 0, "read": 100}, {"ready": 0, "read": 80}, {"ready": 10, "read": 100, "referral": "stat"},
               {"ready": 20, "read": 5}]
    found = run_by_hand(make(data), studies, LastFirst())
    assert len(found) == 3
    for rows, _ in found:
        interrupted, staying, _, later = rows
        assert interrupted["reader"] == staying["reader"] and interrupted["reported_at"] == 170.0
        assert later["read_start"] == 170.0


# Ranks that name an `until` (aging, deadlines, one's own): asked again at a reader's pick once the time has
# come (`Worklist._refresh`), on every form of the station.
class Overdue:
    """STAT studies class 1, key 0; others class 3 (routine) or 2 (urgent) by ready time, until 30 (routine) or
    10 (urgent) minutes after ready, then overdue: class 1, key 0, for good (ties by entry)."""

    name = "overdue"

    def rank(self, item, now: float) -> Rank:
        if item.referral == "stat":
            return Rank(1, 0, "stat")
        wait = 10.0 if item.referral == "urgent" else 30.0
        if now >= item.ready_at + wait:
            return Rank(1, 0, "overdue")
        return Rank(2 if item.referral == "urgent" else 3, item.ready_at, item.referral, until=item.ready_at + wait)


class AskedAt(Overdue):
    """`Overdue`, but an overdue study is keyed by the time it is asked (a rank that changes as time goes on),
    and a STAT one by its ready time."""

    def rank(self, item, now: float) -> Rank:
        rank = super().rank(item, now)
        if rank.label == "stat":
            return Rank(1, item.ready_at, "stat")
        return Rank(1, now, "overdue") if rank.label == "overdue" else rank


def test_a_rank_whose_time_has_come_is_asked_again_at_the_next_pick() -> None:
    """One reader busy until 60. A routine study waiting since 1 is overdue from 31; an urgent one ready at
    55 is not yet: at the pick at 60 the routine one is asked again and read first (flip: never asked
    again, read after the urgent one)."""
    studies = [{"ready": 0, "read": 60}, {"ready": 1, "read": 5}, {"ready": 55, "read": 5, "referral": "urgent"}]
    for rows in routed(desk(), studies, Overdue()):
        assert rows[1]["read_start"] == 60.0 and rows[2]["read_start"] == 65.0


def test_a_rank_is_asked_again_at_the_pick_not_at_its_until() -> None:
    """Overdue studies keyed by the time they are asked. One reader busy until 60; a routine study waiting
    since 1 (overdue from 31) is asked again at the pick at 60, keyed 60, so a STAT study keyed 45 is read
    first (flip: asked at its until, keyed 31, read first)."""
    studies = [{"ready": 0, "read": 60}, {"ready": 1, "read": 5}, {"ready": 45, "read": 5, "referral": "stat"}]
    for rows in routed(desk(), studies, AskedAt()):
        assert rows[2]["read_start"] == 60.0 and rows[1]["read_start"] == 65.0


def test_a_study_asked_again_enters_then_after_its_equals_that_entered_before() -> None:
    """One reader busy until 60. A STAT study ready at 40 ranks (1, 0); a routine one waiting since 1 is
    overdue, (1, 0) too, when asked again at 60: it entered again then, after the STAT one (flip: it keeps
    its first entry, read first)."""
    studies = [{"ready": 0, "read": 60}, {"ready": 1, "read": 5}, {"ready": 40, "read": 5, "referral": "stat"}]
    for rows in routed(desk(), studies, Overdue()):
        assert rows[2]["read_start"] == 60.0 and rows[1]["read_start"] == 65.0


def test_ranks_whose_time_has_come_are_asked_again_by_their_times_then_by_entry() -> None:
    """One reader busy until 60; all three become overdue, (1, 0), and are asked again at the pick at 60
    in the order their times came: the urgent one ready at 2 (from 12), then the routine one ready at 1
    and the urgent one ready at 21 (both from 31: the one that entered first): read in that order (flips:
    asked in order of entry; ties of times the other way)."""
    studies = [{"ready": 0, "read": 60}, {"ready": 1, "read": 5}, {"ready": 2, "read": 5, "referral": "urgent"},
               {"ready": 21, "read": 5, "referral": "urgent"}]
    for rows in routed(desk(), studies, Overdue()):
        assert [rows[i]["read_start"] for i in (2, 1, 3)] == [60.0, 65.0, 70.0]


class Climbs:
    """Urgent studies class 1; routine ones class 3 for their first 10 minutes, 2 until 20, then 0 (overdue)."""

    name = "climbs"

    def rank(self, item, now: float) -> Rank:
        if item.referral == "urgent":
            return Rank(1, item.ready_at, "urgent")
        for after, cls in ((10.0, 3), (20.0, 2)):
            if now < item.ready_at + after:
                return Rank(cls, item.ready_at, "routine", until=item.ready_at + after)
        return Rank(0, item.ready_at, "overdue")


def test_a_rank_asked_again_may_name_a_time_again_and_is_asked_again_then() -> None:
    """One reader busy until 15. Two routine studies, ready at 1 and 2, are asked again at the pick at 15
    (class 2, until 21 and 22): the first is read, until 25. At the pick at 25 the second is asked again:
    overdue, it is read before an urgent study ready at 20 (flip: the time its second rank names dropped,
    it stays class 2, after the urgent one)."""
    studies = [{"ready": 0, "read": 15}, {"ready": 1, "read": 10}, {"ready": 2, "read": 5},
               {"ready": 20, "read": 5, "referral": "urgent"}]
    for rows in routed(desk(), studies, Climbs()):
        assert [rows[i]["read_start"] for i in (1, 2, 3)] == [15.0, 25.0, 30.0]


class ResultAsksAgain:
    """One class and key for all; once scored, the rank names a time to be asked again."""

    name = "result-asks-again"

    def rank(self, item, now: float) -> Rank:
        return Rank(1, 0, "all", until=math.inf if item.ai_score is None else now + 1000.0)


def test_a_late_result_whose_rank_names_a_time_enters_again() -> None:
    """One reader busy until 10. A study ready at 1 and one at 2 wait, equal; the first's AI result at 5
    gives the same rank, with a time to be asked again: it does not keep its place but enters again, after
    the other (flip: it keeps its place, read first)."""
    data = desk()
    data["study_types"]["chest_ct"]["ai"] = "ct_ai"
    data["ai_services"] = {"ct_ai": {"sensitivity": 0.9, "specificity": 0.9}}
    studies = [{"ready": 0, "read": 10}, {"ready": 1, "read": 5, "result": 5, "score": 0.5}, {"ready": 2, "read": 5}]
    for rows in routed(data, studies, ResultAsksAgain()):
        assert rows[2]["read_start"] == 10.0 and rows[1]["read_start"] == 15.0


class Climbing:
    """STAT first; others class 2 by ready time for their first 30 minutes, class 1 from then on."""

    name = "climbing"

    def rank(self, item, now: float) -> Rank:
        if item.referral == "stat":
            return Rank(0, item.ready_at, "stat")
        if now < item.ready_at + 30.0:
            return Rank(2, item.ready_at, "new", until=item.ready_at + 30.0)
        return Rank(1, item.ready_at, "waiting")


def test_a_pre_empted_study_waits_at_the_head_of_the_class_it_ranks_in_when_interrupted() -> None:
    """One reader, pre-emptive. A study read from 0 (class 2 then) is interrupted at 40 by a STAT one; it
    ranks class 1 by then, and waits at its head, before a study waiting since 1 (class 1 when asked again
    at the pick at 40): resumed at 45 (flip: waits in the class it was read under, 2, after it)."""
    data = desk(policy={"triage": "fifo", "preemptive": True})
    studies = [{"ready": 0, "read": 60}, {"ready": 1, "read": 5}, {"ready": 40, "read": 5, "referral": "stat"}]
    for rows in routed(data, studies, Climbing()):
        interrupted, waiting, stat = rows
        assert stat["read_start"] == 40.0 and interrupted["reported_at"] == 65.0 and waiting["read_start"] == 65.0
