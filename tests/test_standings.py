"""The category results stamp kept by database triggers, and the results cached under it."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, inspect, select, text, update

from awards import standings
from awards.extensions import db
from awards.models import (
    Assignment,
    Category,
    Nomination,
    NominationState,
    Review,
    ReviewState,
    Score,
    utcnow,
)

from .factories import assign, make_criterion, make_nomination, make_user
from .test_committee import World, as_, build_world
from .test_query_counts import counting_statements

TRIGGERED = ("nominations", "assignments", "reviews", "scores")


@pytest.fixture
def world() -> World:
    standings.cache().clear()  # the application, and so its cache, lasts the whole session
    return build_world()


def stamps() -> dict[int, str]:
    return dict(db.session.execute(select(Category.id, Category.results_stamp)).all())


def first_score(world) -> Score:
    return (
        db.session.execute(
            select(Score)
            .join(Review, Review.id == Score.review_id)
            .join(Assignment, Assignment.id == Review.assignment_id)
            .where(Assignment.nomination_id == world.nominations[0].id)
            .order_by(Score.id)
        )
        .scalars()
        .first()
    )


def _new_nomination(world):
    make_nomination(world.category, state=NominationState.ELIGIBLE, nominee_name="Late Entry")


def _withdraw(world):
    world.nominations[2].state = NominationState.WITHDRAWN


def _rename(world):
    world.nominations[2].nominee_name = "Repair Café International"


def _move_nominee(world):
    # The nominations table keeps its country filter under the stamp (migration 0008).
    world.nominations[2].nominee_country = "BR"


def _delete_nomination(world):
    db.session.delete(world.nominations[2])


def _assign(world):
    assign(make_user("third.reviewer@example.org"), world.nominations[2])


def _unassign(world):
    db.session.execute(
        delete(Assignment).where(Assignment.nomination_id == world.nominations[2].id)
    )


def _reopen_review(world):
    db.session.execute(
        update(Review)
        .where(Review.id == first_score(world).review_id)
        .values(state=ReviewState.DRAFT, submitted_at=None)
    )


def _new_review(world):
    assignment = assign(make_user("late.reviewer@example.org"), world.nominations[2])
    db.session.add(Review(assignment=assignment))


def _delete_review(world):
    db.session.execute(delete(Review).where(Review.id == first_score(world).review_id))


def _rescore(world):
    first_score(world).value = 3


def _bulk_rescore(world):
    # A statement no ORM event sees: the trigger still does.
    db.session.execute(update(Score).values(value=Score.scale_min))


def _delete_score(world):
    db.session.delete(first_score(world))


def _add_score(world):
    score = first_score(world)
    db.session.delete(score)
    db.session.flush()
    db.session.add(
        Score(
            review_id=score.review_id,
            criterion_id=score.criterion_id,
            scale_min=score.scale_min,
            scale_max=score.scale_max,
            value=score.scale_max,
        )
    )


CHANGES = [
    _new_nomination,
    _withdraw,
    _rename,
    _move_nominee,
    _delete_nomination,
    _assign,
    _unassign,
    _reopen_review,
    _new_review,
    _delete_review,
    _rescore,
    _bulk_rescore,
    _delete_score,
    _add_score,
]


@pytest.mark.parametrize("change", CHANGES, ids=lambda f: f.__name__.strip("_"))
def test_every_write_that_matters_replaces_the_stamp_of_its_category_only(world, change):
    before = stamps()
    change(world)
    db.session.commit()
    after = stamps()
    assert after[world.category.id] != before[world.category.id]
    assert len(after[world.category.id]) == 32
    assert after[world.other.id] == before[world.other.id]


def _announce(world):
    db.session.execute(update(Assignment).values(notified_at=utcnow()))


def _comment(world):
    first_score(world).review.comments = "Changed my mind about the wording."


def _nominee_details(world):
    world.nominations[0].nominee_organisation = "Green Bytes Ltd"


@pytest.mark.parametrize("change", [_announce, _comment, _nominee_details], ids=str)
def test_writes_the_results_do_not_show_leave_the_stamp(world, change):
    before = stamps()
    change(world)
    db.session.commit()
    assert stamps() == before


def test_the_triggers_exist_after_upgrading(app):
    """A later migration that rebuilds one of these tables (SQLite's batch mode copies it)
    must create its triggers again."""
    if db.engine.dialect.name == "sqlite":
        query = "SELECT name FROM sqlite_master WHERE type = 'trigger'"
    else:
        query = "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"
    names = set(db.session.execute(text(query)).scalars())
    expected = {
        f"stamp_results_{table}_{event}"
        for table in TRIGGERED
        for event in ("insert", "update", "delete")
    }
    assert expected <= names
    assert "results_stamp" in {c["name"] for c in inspect(db.engine).get_columns("categories")}


def totals(world) -> dict[int, float | None]:
    db.session.expire_all()
    category = db.session.get(Category, world.category.id)
    results = standings.standing(category).results
    return {nid: result.mean for nid, result in results.nominations.items()}


def test_the_standing_is_computed_once_for_each_change(world, monkeypatch):
    computed = []
    compute = standings.compute
    monkeypatch.setattr(standings, "compute", lambda *args: computed.append(1) or compute(*args))
    first = totals(world)
    assert first[world.nominations[0].id] == pytest.approx(50.0)
    assert totals(world) == first and len(computed) == 1

    first_score(world).value = 1  # Rita's 5 of 1..5 on impact becomes the lowest
    db.session.commit()
    second = totals(world)
    assert len(computed) == 2
    assert second[world.nominations[0].id] < first[world.nominations[0].id]
    assert totals(world) == second and len(computed) == 2


def test_a_change_rolled_back_leaves_nothing_behind(world):
    committed = totals(world)
    first_score(world).value = 1
    db.session.flush()
    assert totals(world) != committed  # this transaction sees its own change
    db.session.rollback()
    assert totals(world) == committed


def test_results_read_while_a_change_committed_are_not_kept(world, monkeypatch):
    monkeypatch.setattr(standings, "_stamps_read_with", lambda _categories: None)
    seen = iter(["before", "after"])
    monkeypatch.setattr(standings, "results_stamps", lambda ids: dict.fromkeys(ids, next(seen)))
    category = db.session.get(Category, world.category.id)
    standings.standing(category)
    assert len(standings.cache()) == 0
    seen = iter(["same", "same"])
    standings.standing(category)
    assert len(standings.cache()) == 1


def test_the_stamp_loaded_with_the_category_saves_reading_it_again(world):
    category = db.session.get(Category, world.category.id)
    standings.workload(category)
    with counting_statements() as statements:
        standings.workload(category)
    assert statements == []  # the stamp as loaded, and the value it keys


def _withdraw_by_statement(world):
    # No flush: a statement of its own, as a command or a bulk change sends.
    db.session.execute(
        update(Nomination)
        .where(Nomination.id == world.nominations[2].id)
        .values(state=NominationState.WITHDRAWN)
    )


@pytest.mark.parametrize("write", [_withdraw, _withdraw_by_statement], ids=str)
def test_a_write_in_the_same_transaction_reads_the_stamp_again(world, write):
    category = db.session.get(Category, world.category.id)
    before = standings.workload(category).nominations
    write(world)
    db.session.flush()  # written, not committed: the triggers replaced the stamp already
    assert standings.workload(category).nominations == before - 1
    db.session.rollback()
    assert standings.workload(db.session.get(Category, world.category.id)).nominations == before


def test_the_rubric_and_the_reviewers_asked_for_are_part_of_the_key(world):
    category = db.session.get(Category, world.category.id)
    before = standings.standing(category).results
    assert before.nominations[world.nominations[2].id].expected == 3
    category.reviewers_per_nomination = 4
    db.session.commit()
    after = standings.standing(db.session.get(Category, world.category.id)).results
    assert after.nominations[world.nominations[2].id].expected == 4
    # A criterion added: no review scores it, so none can be totalled any more.
    make_criterion(db.session.get(Category, world.category.id), "Reach", scale=(0, 3))
    db.session.commit()
    extended = standings.standing(db.session.get(Category, world.category.id)).results
    assert {result.mean for result in extended.nominations.values()} == {None}


def test_the_cache_keeps_the_most_recently_used(app):
    cache = standings.StampedCache(size=2)
    empty = standings.Standing((), None)
    cache.put("a", empty)
    cache.put("b", empty)
    assert cache.get("a") is empty  # "a" is now the most recent
    cache.put("c", empty)
    assert cache.get("b") is None and cache.get("a") is empty and len(cache) == 2


def test_the_ranking_page_shows_a_review_submitted_after_it_was_read(make_browser, world):
    chair = as_(make_browser, world, "chair")
    late = make_nomination(world.category, state=NominationState.ELIGIBLE, nominee_name="Late")
    db.session.commit()
    html = chair.get(world.url("results")).get_data(as_text=True)
    assert late.reference in html and "3 missing" in html

    # A reviewer's review arrives by the scoring page, as in real use.
    reviewer = world.people["reviewer"]
    assignment = assign(reviewer, late)
    db.session.commit()
    browser = as_(make_browser, world, "reviewer")
    url = f"/review/nominations/{late.id}"
    assert browser.get(url).status_code == 200
    scores = {f"c-{c.id}": str(c.scale_max) for c in world.category.criteria}
    form = {"version": "0", "comments": "Top.", "submit_review": "Submit review", **scores}
    assert browser.post(url, form, page=url).status_code == 302
    db.session.expire_all()
    assert db.session.get(Assignment, assignment.id).review.state is ReviewState.SUBMITTED

    html = chair.get(world.url("results")).get_data(as_text=True)
    assert "2 missing" in html and "100.0" in html


def test_bench_data_stamps_every_category_and_leaves_the_triggers_on(app):
    from awards import benchdata

    benchdata.generate(150, seed=5)
    db.session.commit()
    written = stamps()
    assert all(len(stamp) == 32 for stamp in written.values())
    assert len(set(written.values())) == len(written)
    nomination = db.session.execute(select(Nomination).limit(1)).scalar_one()
    nomination.nominee_name = "Renamed Nominee"
    db.session.commit()
    after = stamps()
    assert after[nomination.category_id] != written[nomination.category_id]
    assert {k: v for k, v in after.items() if k != nomination.category_id} == {
        k: v for k, v in written.items() if k != nomination.category_id
    }


def test_the_cache_size_comes_from_the_environment(app, monkeypatch):
    from awards.config import from_environment

    assert from_environment({"RESULTS_CACHE_SIZE": "8"})["RESULTS_CACHE_SIZE"] == 8
    monkeypatch.setitem(app.config, "RESULTS_CACHE_SIZE", 8)
    monkeypatch.delitem(app.extensions, "awards.stamped", raising=False)
    assert standings.cache().size == 8 and standings.cache("progress").size == 8


def test_the_workload_is_counted_once_for_each_change(world):
    """Reviews submitted and assigned per reviewer (the committee and assignments pages): from
    the cache while nothing changes, counted again when a review or a nomination does."""
    rita, rolf = world.people["reviewer"].id, world.people["reviewer2"].id

    def kept():
        db.session.expire_all()
        return standings.workload(db.session.get(Category, world.category.id))

    def workload():
        return dict(kept().loads)

    assert workload() == {rita: (3, 3), rolf: (2, 2)} and kept().nominations == 3
    with counting_statements() as statements:
        assert workload() == {rita: (3, 3), rolf: (2, 2)}
    assert not [sql for sql in statements if "count(" in sql.lower()]
    _reopen_review(world)  # Rita's review of the first nomination goes back to draft
    db.session.commit()
    assert workload() == {rita: (2, 3), rolf: (2, 2)}
    _withdraw(world)  # the third nomination, Rita's, is no longer to be reviewed
    db.session.commit()
    assert workload() == {rita: (1, 2), rolf: (2, 2)} and kept().nominations == 2
    _assign(world)  # a newcomer on the withdrawn one counts nowhere
    db.session.commit()
    assert workload() == {rita: (1, 2), rolf: (2, 2)}
