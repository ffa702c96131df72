"""A toolbox talk with three attendees, one failing the check, end to end: a line manager starts
the talk, steps through the slides with the keyboard, ticks the crew present; two answer in turn
on the manager's device (one fails), the third on their own phone through the talk's address;
the talk closes and the phone's second try is refused. axe-core and the 320 px check run on
every new page."""

import pytest
from playwright.sync_api import expect

from tests.browser.journeys import check_fits
from tests.browser.mfa import DEMO_PASSWORD, sign_in

pytestmark = pytest.mark.browser
MANAGER, OFFICER = "manager@example.gov.uk", "officer@example.gov.uk"


@pytest.fixture
def crew(live_site):
    """Jordan Reid (the demo manager) manages Alex Morgan and, now, Chris Lee and Dana Shah."""
    from allauth.account.models import EmailAddress

    from accounts.models import User

    manager = User.objects.get(email=MANAGER)
    for name, email in [
        ("Chris Lee", "chris.lee@example.gov.uk"),
        ("Dana Shah", "dana@example.gov.uk"),
    ]:
        person = User.objects.create_user(
            email=email,
            password=DEMO_PASSWORD,
            full_name=name,
            line_manager=manager,
            department=manager.department,
        )
        EmailAddress.objects.create(user=person, email=email, verified=True, primary=True)
    return ["Alex Morgan", "Chris Lee", "Dana Shah"]


def talk_module():
    """The first module a talk can cover whose bank gives a three-question check."""
    from quizzes.selectors import toolbox_check_draw
    from training.selectors import toolbox_modules

    return next(m for m in toolbox_modules() if toolbox_check_draw(module=m) is not None)


def answer_check(page, *, right: bool) -> None:
    """Pick the right choice of each question (or a wrong one), read from the talk's record."""
    from training.models import ToolboxSession

    questions = ToolboxSession.objects.get().questions
    for number, question in enumerate(questions, start=1):
        flags = [choice["correct"] for choice in question["choices"]]
        index = flags.index(True) if right else flags.index(False)
        page.locator(f"#id_q{number}-{index + 1}").check()
    page.get_by_role("button", name="Send the answers").click()


def test_a_toolbox_talk_with_three_attendees_one_failing(live_site, crew, page, axe_check):
    from training.models import CompletionSource, ModuleCompletion, ToolboxAttendance

    base = live_site.url
    module = talk_module()
    page.set_viewport_size({"width": 320, "height": 720})
    sign_in(page, base, MANAGER)

    page.goto(f"{base}/toolbox/")
    expect(page.get_by_role("heading", name="Run a toolbox talk")).to_be_visible()
    check_fits(page, "toolbox-start", axe_check)
    page.get_by_label(module.title, exact=True).check()
    page.get_by_role("button", name="Start the talk").click()

    # The slides, one at a time: the arrow key moves on.
    expect(page.get_by_role("heading", name=module.title, level=1)).to_be_visible()
    position = page.locator("[data-toolbox-position]")
    expect(position).to_contain_text("Slide 1 of")
    page.keyboard.press("ArrowRight")
    expect(position).to_contain_text("Slide 2 of")
    expect(page.locator(".aware-talk-slide:visible")).to_have_count(1)
    check_fits(page, "toolbox-talk", axe_check)
    talk_url = page.url
    check_url = page.get_by_test_id("check-url").inner_text()

    # Who is here: the whole team.
    for name in crew:
        page.get_by_label(name, exact=True).check()
    page.get_by_role("button", name="Save who is here").click()
    expect(page.get_by_text("3 more ticked present.")).to_be_visible()

    # On the manager's device in turn: Alex passes, Chris does not.
    page.get_by_role("link", name="Answer here as Alex Morgan").click()
    expect(page.get_by_role("heading", name="Three questions for Alex Morgan")).to_be_visible()
    check_fits(page, "toolbox-check", axe_check)
    answer_check(page, right=True)
    expect(page.get_by_role("heading", name="Alex Morgan passed")).to_be_visible()
    check_fits(page, "toolbox-check-passed", axe_check)
    page.get_by_role("link", name="Next person").click()
    page.get_by_role("link", name="Answer here as Chris Lee").click()
    answer_check(page, right=False)
    expect(page.get_by_role("heading", name="Chris Lee did not pass")).to_be_visible()
    check_fits(page, "toolbox-check-not-passed", axe_check)

    # Dana on her own phone, through the QR code's address.
    phone = page.context.browser.new_context(viewport={"width": 320, "height": 720})
    dana = phone.new_page()
    sign_in(dana, base, "dana@example.gov.uk")
    dana.goto(check_url)
    expect(dana.get_by_role("heading", name="Three questions")).to_be_visible()
    answer_check(dana, right=True)
    expect(dana.get_by_role("heading", name="Dana Shah passed")).to_be_visible()

    # The talk's table, then closing it: the phone's second try is refused.
    page.goto(talk_url)
    rows = page.get_by_role("row")
    expect(rows.filter(has_text="Alex Morgan")).to_contain_text("Passed")
    expect(rows.filter(has_text="Chris Lee")).to_contain_text("Not passed")
    expect(rows.filter(has_text="Dana Shah")).to_contain_text("Passed")
    page.get_by_role("button", name="Close the talk").click()
    expect(page.get_by_text("This talk has closed")).to_be_visible()
    check_fits(page, "toolbox-talk-closed", axe_check)
    dana.goto(check_url)
    expect(dana.get_by_text("This toolbox talk has closed")).to_be_visible()
    check_fits(dana, "toolbox-check-closed", axe_check)
    phone.close()

    attendances = {
        a.attendee.full_name: a for a in ToolboxAttendance.objects.select_related("attendee")
    }
    assert {name: a.passed for name, a in attendances.items()} == {
        "Alex Morgan": True,
        "Chris Lee": False,
        "Dana Shah": True,
    }
    assert attendances["Dana Shah"].on_own_device
    toolbox = ModuleCompletion.objects.filter(source=CompletionSource.TOOLBOX)
    assert sorted(toolbox.values_list("user__full_name", flat=True)) == ["Alex Morgan", "Dana Shah"]
    assert all(a.witness.email == MANAGER for a in attendances.values())
