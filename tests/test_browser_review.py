"""In real Chromium: a reviewer scores an assigned nomination with the keyboard alone."""

from __future__ import annotations

from awards.extensions import db
from awards.models import ReviewState

from .factories import PASSWORD
from .test_review import NOMINEE, make_panel, stored_scores, the_assignment


def focused(tab) -> str:
    return tab.evaluate("document.activeElement.id || document.activeElement.name || ''")


def test_reviewer_scores_a_nomination_with_the_keyboard(tab):
    panel = make_panel(blind=True)
    impact, innovation = panel.impact.id, panel.innovation.id
    reference = panel.nomination.reference

    tab.goto("/account/login")
    tab.get_by_label("Email address").fill(panel.reviewer.email)
    tab.get_by_label("Password").fill(PASSWORD)
    tab.get_by_role("button", name="Log in").click()
    tab.get_by_role("heading", name="Your committees").wait_for()
    tab.get_by_role("link", name="Your reviews").first.click()

    tab.get_by_role("heading", level=1, name="Your reviews").wait_for()
    assert "0 of 1 reviews submitted" in tab.content()
    tab.snap("1-review-dashboard")
    tab.get_by_role("link", name=reference).click()

    tab.get_by_role("heading", level=1, name=f"Review of {reference}").wait_for()
    assert NOMINEE not in tab.content()  # a blind review
    assert tab.get_by_role("group", name="Impact").is_visible()
    tab.snap("2-scoring-page")

    # Keyboard only: the first radio of the group takes the focus, the arrows choose.
    tab.locator(f"#c-{impact}-none").focus()
    assert focused(tab) == f"c-{impact}-none"
    for _ in range(4):
        tab.keyboard.press("ArrowRight")
    assert focused(tab) == f"c-{impact}-4"
    assert tab.locator(f"#c-{impact}-4").is_checked()

    tab.keyboard.press("Tab")  # on to the next criterion's group
    assert focused(tab) == f"c-{innovation}-none"
    for _ in range(10):  # past "not scored yet", 0 … 9
        tab.keyboard.press("ArrowRight")
    tab.keyboard.press("ArrowLeft")
    assert tab.locator(f"#c-{innovation}-8").is_checked()
    tab.keyboard.press("Space")  # space on the checked radio keeps it
    assert tab.locator(f"#c-{innovation}-8").is_checked()

    tab.keyboard.press("Tab")
    assert focused(tab) == "comments"
    tab.keyboard.type("Convincing evidence of schools reached.")
    tab.snap("3-scored")
    tab.keyboard.press("Tab")
    assert focused(tab) == "save_draft"
    tab.keyboard.press("Tab")
    assert focused(tab) == "submit_review"
    tab.keyboard.press("Enter")

    tab.get_by_text(f"Your review of {reference} is submitted").wait_for()
    assert "1 of 1 reviews submitted" in tab.content()
    tab.snap("4-submitted")

    db.session.expire_all()
    review = the_assignment(panel).review
    assert review.state is ReviewState.SUBMITTED
    assert review.comments == "Convincing evidence of schools reached."
    assert stored_scores(panel) == {"Impact": 4, "Innovation": 8}

    # Back on the page, the stored scores are selected and can be revised.
    tab.get_by_role("link", name=reference).click()
    assert tab.locator(f"#c-{impact}-4").is_checked()
    assert tab.get_by_role("button", name="Submit the revised review").is_visible()
    tab.snap("5-revisit")
