"""In real Chromium: a nominator goes from the public call to the receipt in their mailbox."""

from __future__ import annotations

from sqlalchemy import select

from awards import outbox
from awards.extensions import db
from awards.models import Nomination, NominationState, QuestionKind

from .factories import PASSWORD
from .test_nominate import PDF, call  # noqa: F401  (call is a fixture)


def test_nominator_from_public_call_to_receipt(tab, call, smtp, tmp_path):  # noqa: F811
    evidence = tmp_path / "evidence.pdf"
    evidence.write_bytes(PDF)

    tab.goto("/")
    tab.get_by_role("link", name="ITU Award for Circular ICT").click()
    tab.snap("1-category")
    assert tab.get_by_role("heading", level=1).inner_text() == "ITU Award for Circular ICT"
    tab.get_by_role("link", name="Nominate yourself").click()

    # Not logged in yet: the log-in tab brings us back to the form afterwards.
    tab.get_by_label("Email address").fill("kwame@example.org")
    tab.get_by_label("Password").fill(PASSWORD)
    tab.get_by_role("button", name="Log in").click()
    tab.get_by_label("Nominee’s name").fill("Green Bytes Cooperative")
    tab.get_by_label("Nominee’s country").select_option("KE")
    tab.snap("2-start")
    tab.get_by_role("button", name="Start the nomination").click()
    tab.get_by_text("Your draft EWA27-ITU-0001 is saved").wait_for()

    # A first save with a summary that is too long keeps everything and explains.
    category = call
    by_kind = {q.kind: q for q in category.questions}
    tab.get_by_label("Title of the initiative").fill("Refurbish to reuse")
    tab.get_by_label("Summary").fill("one two three four five six seven eight nine ten eleven")
    tab.get_by_role("button", name="Save draft").click()
    tab.get_by_text("Use at most 10 words (now 11)").first.wait_for()
    tab.snap("3-draft-with-error")
    assert tab.get_by_label("Title of the initiative").input_value() == "Refurbish to reuse"

    tab.get_by_label("Summary").fill("We repair laptops for schools in Nairobi.")
    tab.locator(f"#q-{by_kind[QuestionKind.COUNTRY].id}").select_option("KE")
    tab.get_by_label("Recycling").check()
    tab.locator(f"#q-{by_kind[QuestionKind.FILE].id}").set_input_files(str(evidence))
    tab.get_by_label("I agree to be contacted").check()
    tab.get_by_role("button", name="Save and review").click()

    tab.get_by_role("button", name="Submit the nomination").wait_for()
    assert tab.get_by_role("link", name="evidence.pdf").is_visible()
    tab.snap("4-review")
    tab.get_by_role("button", name="Submit the nomination").click()
    tab.get_by_text("is submitted; a receipt is on its way").wait_for()
    tab.snap("5-submitted")

    nomination = db.session.execute(select(Nomination)).scalar_one()
    assert nomination.state is NominationState.SUBMITTED
    assert outbox.deliver_due().sent == 1
    receipt = smtp.to("kwame@example.org")[0]
    assert "EWA27-ITU-0001" in receipt["Subject"]
    assert "We repair laptops for schools in Nairobi." in smtp.text_of(receipt)
    assert "evidence.pdf" in smtp.text_of(receipt)
