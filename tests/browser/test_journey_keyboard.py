"""The learner journey with the keyboard only: a working skip link and focus that is always seen."""

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser
EMAIL = "keyboard.user@example.gov.uk"
PASSWORD = "a-long-password-2"
MODULE_TITLE = "County lines, child criminal exploitation and cuckooing"
MAX_TABS = 120

# The focus indicator of the active element: an outline or box-shadow that it has only while
# focused (GOV.UK buttons carry a box-shadow all the time), or for GOV.UK's radios and checkboxes,
# whose input is transparent, the ring drawn on the label's ::before.
FOCUS_STYLE = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const ring = ["radio", "checkbox"].includes(el.type) && el.labels && el.labels.length
    ? () => getComputedStyle(el.labels[0], "::before") : () => getComputedStyle(el);
  const look = (s) => ({
    outline: s.outlineStyle !== "none" && parseFloat(s.outlineWidth) > 0 &&
      !/rgba\\(.*,\\s*0\\)|transparent/.test(s.outlineColor) ? s.outline : "none",
    shadow: s.boxShadow,
  });
  const focused = look(ring());
  el.blur();
  const blurred = look(ring());
  el.focus();
  const shown = (focused.outline !== "none" && focused.outline !== blurred.outline) ||
    (focused.shadow !== "none" && focused.shadow !== blurred.shadow);
  const name = (el.innerText || el.value || el.id || el.tagName).trim().slice(0, 60);
  return {shown, name, focused, blurred};
}"""


@pytest.fixture
def learner(live_site):
    from allauth.account.models import EmailAddress

    from accounts.models import User

    user = User.objects.create_user(email=EMAIL, password=PASSWORD, full_name="Kim Patel")
    EmailAddress.objects.create(user=user, email=EMAIL, verified=True, primary=True)
    return user


def assert_focus_visible(page, *, may_leave_page: bool = False) -> None:
    focus = page.evaluate(FOCUS_STYLE)
    if focus is None:
        # Past the last control focus goes to the browser's own toolbar, then comes back round.
        assert may_leave_page, "focus fell back to the page body"
        return
    assert focus["shown"], f"no visible focus style on {focus['name']!r}: {focus}"


def tab_to(page, target, key: str = "Tab") -> None:
    """Press Tab (or Shift+Tab) until the target has focus, checking each control on the way."""
    handle = target.element_handle()
    for _ in range(MAX_TABS):
        if page.evaluate("el => el === document.activeElement", handle):
            return
        page.keyboard.press(key)
        assert_focus_visible(page, may_leave_page=True)
    raise AssertionError(f"{target} was not reached with {key}")


def test_learner_signs_in_opens_a_module_and_completes_a_lesson_by_keyboard(
    live_site, learner, page, axe_check
):
    base = live_site.url
    page.goto(f"{base}/")
    axe_check(page, "keyboard-home")

    page.keyboard.press("Tab")
    skip_link = page.get_by_role("link", name="Skip to main content")
    expect(skip_link).to_be_focused()
    assert_focus_visible(page)
    page.keyboard.press("Enter")
    expect(page.locator("main#main-content")).to_be_focused()

    tab_to(page, page.get_by_role("link", name="Sign in", exact=True).first, key="Shift+Tab")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/accounts/login/")
    axe_check(page, "keyboard-sign-in")
    tab_to(page, page.get_by_label("Email"))
    page.keyboard.type(EMAIL)
    tab_to(page, page.get_by_label("Password"))
    page.keyboard.type(PASSWORD)
    tab_to(page, page.get_by_role("button", name="Sign in"))
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/")
    expect(page.get_by_test_id("welcome")).to_contain_text("Kim Patel")

    tab_to(page, page.get_by_role("link", name="All modules").first)
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("module-card").first).to_be_visible()
    axe_check(page, "keyboard-catalogue")
    tab_to(page, page.get_by_role("link", name=MODULE_TITLE))
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text(MODULE_TITLE)
    axe_check(page, "keyboard-module")

    # GOV.UK's link styled as a button also answers the space bar, as a real button would.
    tab_to(page, page.get_by_test_id("start-or-continue"))
    page.keyboard.press("Space")
    expect(page.get_by_role("heading", level=1)).to_have_text("How county lines work")
    axe_check(page, "keyboard-lesson")

    complete = page.get_by_test_id("complete-lesson")
    tab_to(page, complete)
    page.keyboard.press("Shift+Tab")
    assert_focus_visible(page)
    expect(complete).not_to_be_focused()
    page.keyboard.press("Tab")
    expect(complete).to_be_focused()
    page.keyboard.press("Space")
    expect(page.get_by_role("heading", level=1)).to_have_text("Child criminal exploitation")
    expect(page.locator(".govuk-notification-banner")).to_contain_text("is complete")
    axe_check(page, "keyboard-lesson-next")
