"""In real Chromium: a nominator goes from the public call to the receipt in their mailbox."""

from __future__ import annotations

from sqlalchemy import select

from awards import outbox
from awards.extensions import db
from awards.models import Nomination, NominationState, QuestionKind

from .browser import chromium, page, running_server  # noqa: F401  (fixtures)
from .factories import PASSWORD
from .test_nominate import PDF, call  # noqa: F401  (fixture)


def test_nominator_from_public_call_to_receipt(page, call, smtp, tmp_path):  # noqa: F811
    evidence = tmp_path / "evidence.pdf"
    evidence.write_bytes(PDF)

    page.goto("/")
    page.get_by_role("link", name="ITU Award for Circular ICT").click()
    page.snap("1-category")
    assert page.get_by_role("heading", level=1).inner_text() == "ITU Award for Circular ICT"
    page.get_by_role("link", name="Nominate yourself").click()

    # Not logged in yet: the log-in page brings us back to the form afterwards.
    page.get_by_label("Email address").fill("kwame@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_label("Nominee’s name").fill("Green Bytes Cooperative")
    page.get_by_label("Nominee’s country").select_option("KE")
    page.snap("2-start")
    page.get_by_role("button", name="Start the nomination").click()
    page.get_by_text("Your draft EWA27-ITU-0001 is saved").wait_for()

    # A first save with a summary that is too long keeps everything and explains.
    category = call
    by_kind = {q.kind: q for q in category.questions}
    page.get_by_label("Title of the initiative").fill("Refurbish to reuse")
    page.get_by_label("Summary").fill("one two three four five six seven eight nine ten eleven")
    page.get_by_role("button", name="Save draft").click()
    page.get_by_text("Use at most 10 words (now 11)").first.wait_for()
    page.snap("3-draft-with-error")
    assert page.get_by_label("Title of the initiative").input_value() == "Refurbish to reuse"

    page.get_by_label("Summary").fill("We repair laptops for schools in Nairobi.")
    page.locator(f"#q-{by_kind[QuestionKind.COUNTRY].id}").select_option("KE")
    page.get_by_label("Recycling").check()
    page.locator(f"#q-{by_kind[QuestionKind.FILE].id}").set_input_files(str(evidence))
    page.get_by_label("I agree to be contacted").check()
    page.get_by_role("button", name="Save and review").click()

    page.get_by_role("button", name="Submit the nomination").wait_for()
    assert page.get_by_role("link", name="evidence.pdf").is_visible()
    page.snap("4-review")
    page.get_by_role("button", name="Submit the nomination").click()
    page.get_by_text("is submitted; a receipt is on its way").wait_for()
    page.snap("5-submitted")

    nomination = db.session.execute(select(Nomination)).scalar_one()
    assert nomination.state is NominationState.SUBMITTED
    assert outbox.deliver_due().sent == 1
    receipt = smtp.to("kwame@example.org")[0]
    assert "EWA27-ITU-0001" in receipt["Subject"]
    assert "We repair laptops for schools in Nairobi." in smtp.text_of(receipt)
    assert "evidence.pdf" in smtp.text_of(receipt)
