"""A class on the hub, in a real browser: the instructor releases 01 into nbgrader's
exchange; student A logs in, fetches it from the Assignment List, answers its first
exercise and submits; student B submits the blank notebook; the instructor collects,
grades (`course grade`) and releases the feedback, one `course hub` command each; A and B
fetch their feedback, and the instructor's formgrader lists both submissions with their
written answers waiting to be graded by hand. Beside it, what a shared server must keep apart: B cannot reach A's
files (through the server's API or from a kernel), nor the instructor's solutions,
gradebook and grades; A cannot submit in B's name.

The tests run in this order on one hub (one xdist group) and build on each other."""
import csv
import json
import re
import time
from pathlib import Path

import nbformat
import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

import bootstrap
from course_lib.hub.setup import ROLES_DIRECTORY
from tests.browser.lab import LAB_SETTINGS, NotebookPage
from course_lib.hub.accounts import home_of
from tests.browser.test_instructor import formgrader_score
from tests.browser.test_student import INSTRUCTOR_PLUGINS, first_exercise, solution_of

pytestmark = [pytest.mark.browser, pytest.mark.hub, pytest.mark.xdist_group("hub")]

ASSIGNMENT, NOTEBOOK = "01_epochs_iterations", "epochs_iterations"
RELEASED = bootstrap.ROOT / "notebooks" / ASSIGNMENT / f"{NOTEBOOK}.ipynb"
SPAWN_MS = 120_000
EXCHANGE_MS = 60_000
# what happened in one test that a later one reads: the moment A pressed Submit
timeline = {}


class UserServer:
    """A user's JupyterLab behind the hub, as tests.browser.lab.NotebookPage addresses a
    server; the browser is logged in by the hub's cookie."""

    def __init__(self, hub, login):
        self.hub, self.login = hub, login

    def url(self, path=""):
        return f"{self.hub.url}/user/{self.login}/{path.lstrip('/')}"


def prepare_lab_settings(hub, login):
    """The browser tests' JupyterLab settings (every cell rendered) in the user's home."""
    for name, values in LAB_SETTINGS.items():
        hub.as_user(login, "sh", "-c", 'mkdir -p "$(dirname "$1")" && printf %s "$2" > "$1"', "sh",
                    f".jupyter/lab/user-settings/{name}", json.dumps(values))


def log_in(chromium, hub, login):
    """A new browser context logged in as `login`, on their JupyterLab (spawned if needed)."""
    context = chromium.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.goto(f"{hub.url}/hub/login")
    page.fill("#username_input", login)
    page.fill("#password_input", hub.passwords[login])
    page.click("#login_submit")
    page.wait_for_url(f"**/user/{login}/lab**", timeout=SPAWN_MS)
    page.wait_for_function("() => window.jupyterapp !== undefined", timeout=SPAWN_MS)
    # a fresh workspace: a panel restored from an earlier visit would double the Assignment List
    page.goto(UserServer(hub, login).url("lab?reset"))
    page.wait_for_function("() => window.jupyterapp !== undefined", timeout=SPAWN_MS)
    page.evaluate("async () => { await window.jupyterapp.started; await window.jupyterapp.restored; }")
    return page


def assignment_list(page):
    """Open nbgrader's Assignment List and wait until it has asked the exchange."""
    page.evaluate("() => window.jupyterapp.commands.execute('nbgrader:open-assignment-list')")
    panel = page.locator("#released_assignments_list")
    panel.wait_for(timeout=EXCHANGE_MS)
    page.wait_for_function("() => !document.querySelector('#released_assignments_list_loading')"
                           " || document.querySelector('#released_assignments_list_loading').offsetParent === null",
                           timeout=EXCHANGE_MS)
    return page


def press(page, listing, label):
    """Press the button `label` in the row of ASSIGNMENT in the Assignment List's `listing`."""
    row = page.locator(f"#{listing} .list_item:visible", has_text=ASSIGNMENT).first
    try:
        row.wait_for(timeout=EXCHANGE_MS)
    except PlaywrightTimeout:
        page.screenshot(path=str(bootstrap.ROOT / "build" / "test-artifacts" / "browser" / f"hub-no-{listing}-failed.png"))
        shown = page.locator(".jp-Activity:visible").first.inner_text() if page.locator(".jp-Activity:visible").count() else ""
        raise AssertionError(f"the Assignment List shows no {ASSIGNMENT} in {listing}; it shows:\n{shown[:2000]}") from None
    row.get_by_role("button", name=label).click()


def fetch_and_submit(page, change=None):
    assignment_list(page)
    press(page, "released_assignments_list", "Fetch")
    page.locator("#fetched_assignments_list .list_item:visible", has_text=ASSIGNMENT).first.wait_for(timeout=EXCHANGE_MS)
    if change:
        change()
        assignment_list(page)
    press(page, "fetched_assignments_list", "Submit")
    submitted_at = time.monotonic()
    page.locator("#submitted_assignments_list .list_item:visible", has_text=ASSIGNMENT).first.wait_for(timeout=EXCHANGE_MS)
    return submitted_at


def fetch_feedback(page, hub, login, artifacts):
    """Fetch Feedback in the Assignment List; returns the feedback page's text."""
    assignment_list(page)
    press(page, "submitted_assignments_list", "Fetch Feedback")
    page.get_by_text("(view feedback)").first.wait_for(timeout=EXCHANGE_MS)
    fetched_at = time.monotonic()
    home = Path(home_of(login))
    feedback = sorted((home / ASSIGNMENT / "feedback").glob(f"*/{NOTEBOOK}.html"))
    assert feedback, f"Fetch Feedback put no {NOTEBOOK}.html under ~{login}/{ASSIGNMENT}/feedback/"
    page.goto(UserServer(hub, login).url(f"files/{feedback[-1].relative_to(home).as_posix()}"))
    page.screenshot(path=str(artifacts / f"hub-feedback-{login[-1]}.png"), full_page=True)
    return page.locator("body").inner_text(), fetched_at


def student_a(hub):
    return hub.students[0]


def student_b(hub):
    return hub.students[1]


def hidden_test_lines(solution_path):
    """Each line of the solution notebook's hidden tests."""
    lines, hidden = [], False
    for cell in nbformat.read(solution_path, as_version=4).cells:
        for line in cell.source.splitlines():
            if "### BEGIN HIDDEN TESTS" in line:
                hidden = True
            elif "### END HIDDEN TESTS" in line:
                hidden = False
            elif hidden and line.strip():
                lines.append(line.strip())
    return lines


@pytest.fixture(scope="module")
def released(hub):
    for login in hub.students:
        prepare_lab_settings(hub, login)
    done = hub.course(hub.instructor, "hub", "release", ASSIGNMENT, cwd=hub.instructor_course())
    assert done.returncode == 0, f"`course hub release {ASSIGNMENT}` failed:\n{done.stdout}{done.stderr}"
    return hub


def test_students_fetch_answer_and_submit_in_the_browser(released, chromium, artifacts):
    hub = released
    notebook = nbformat.read(RELEASED, as_version=4)
    answer, _, grade_id = first_exercise(notebook)
    page = log_in(chromium, hub, student_a(hub))

    def answer_first_exercise():
        lab = NotebookPage(page, UserServer(hub, student_a(hub)), f"{ASSIGNMENT}/{NOTEBOOK}.ipynb")
        lab.type_into(answer, solution_of(RELEASED, grade_id))
        lab.save()

    timeline["submitted"] = fetch_and_submit(page, answer_first_exercise)
    page.screenshot(path=str(artifacts / "hub-a-submitted.png"))
    page.context.close()

    page = log_in(chromium, hub, student_b(hub))
    fetch_and_submit(page)
    page.screenshot(path=str(artifacts / "hub-b-submitted.png"))
    page.context.close()


def test_a_student_cannot_submit_in_another_students_name(released):
    hub = released
    student_environment = {"JUPYTER_CONFIG_PATH": str(hub.state / ROLES_DIRECTORY / "student")}
    forged = hub.as_user(student_a(hub), hub.python, "-m", "nbgrader", "submit", ASSIGNMENT,
                         f"--student={student_b(hub)}", environment=student_environment)
    assert forged.returncode == 0, f"nbgrader refused the forged submission itself:\n{forged.stderr}"
    timeline["forged by"] = student_a(hub)


def test_the_instructor_collects_grades_and_releases_feedback(released):
    hub = released
    course = hub.instructor_course()
    collected = hub.course(hub.instructor, "hub", "collect", ASSIGNMENT, cwd=course)
    assert collected.returncode == 0, f"`course hub collect` failed:\n{collected.stdout}{collected.stderr}"
    assert all(login in collected.stdout for login in hub.students), collected.stdout
    if "forged by" in timeline:
        assert (f"in the name of {student_b(hub)}, made by the account {student_a(hub)}" in collected.stderr), (
            f"collect did not leave out A's submission in B's name:\n{collected.stderr}")
    graded = hub.course(hub.instructor, "hub", "grade", ASSIGNMENT, "--workers", "2", cwd=course)
    assert graded.returncode == 0, f"`course hub grade` failed:\n{graded.stdout}{graded.stderr}"
    released_feedback = hub.course(hub.instructor, "hub", "feedback", ASSIGNMENT, cwd=course)
    assert released_feedback.returncode == 0, (
        f"`course hub feedback` failed:\n{released_feedback.stdout}{released_feedback.stderr}\n"
        f"after `course hub grade` printed:\n{graded.stdout}{graded.stderr}")
    assert all(login in released_feedback.stdout for login in hub.students), released_feedback.stdout


def test_a_sees_their_score_and_visible_messages_without_hidden_tests(released, chromium, artifacts):
    hub = released
    page = log_in(chromium, hub, student_a(hub))
    text, fetched_at = fetch_feedback(page, hub, student_a(hub), artifacts)
    if "submitted" in timeline:
        timeline["submit to feedback seconds"] = fetched_at - timeline["submitted"]
        print(f"\nstudent clicks Submit -> feedback fetched: {timeline['submit to feedback seconds']:.0f} s")
    page.context.close()
    scores = totals(hub)
    assert float(scores[student_a(hub)][ASSIGNMENT]) > 0, f"A's answered exercise scored nothing: {scores}"
    assert f"(Score: {float(scores[student_a(hub)][ASSIGNMENT]):g}" in text.replace(".0 /", " /"), text[:1500]
    assert "Visible tests passed." in text, "A's feedback does not show the visible test's message"
    shown = [line for line in hidden_test_lines(bootstrap.ROOT / "solutions" / ASSIGNMENT / f"{NOTEBOOK}.ipynb")
             if line in text]
    assert not shown, f"A's feedback shows hidden-test source: {shown[:5]}"


def test_b_sees_zero_for_the_unanswered_exercises(released, chromium, artifacts):
    hub = released
    page = log_in(chromium, hub, student_b(hub))
    text, _ = fetch_feedback(page, hub, student_b(hub), artifacts)
    page.context.close()
    assert float(totals(hub)[student_b(hub)][ASSIGNMENT]) == 0
    assert re.search(r"\(Score: 0(\.0)? / \d", text), f"B's feedback shows no score of 0:\n{text[:1500]}"


def test_the_instructors_formgrader_lists_the_submissions_to_grade_by_hand(released, chromium, artifacts):
    hub = released
    scores = totals(hub)
    page = log_in(chromium, hub, hub.instructor)
    page.goto(UserServer(hub, hub.instructor).url(f"formgrader/manage_submissions/{ASSIGNMENT}"))
    shown = {}
    for login in hub.students:
        row = page.locator("tr", has=page.locator("td", has_text=login)).first
        row.wait_for(timeout=EXCHANGE_MS)
        shown[login] = row.inner_text()
    page.screenshot(path=str(artifacts / "hub-formgrader-submissions.png"), full_page=True)
    page.context.close()
    for login in hub.students:
        assert formgrader_score(scores[login], ASSIGNMENT) in shown[login], (
            f"the instructor's formgrader shows {login}'s submission as {shown[login]!r}; totals.csv has "
            f"{formgrader_score(scores[login], ASSIGNMENT)}")
        assert "needs manual grading" in shown[login], f"{login}'s written answers are not waiting: {shown[login]!r}"


def totals(hub):
    done = hub.as_user(hub.instructor, "cat", str(hub.instructor_course() / "grades" / "totals.csv"))
    return {row["student"]: row for row in csv.DictReader(done.stdout.splitlines())}


PROBE = '''import json, os
def attempt(action, path):
    try:
        action(path)
        return "allowed"
    except OSError as error:
        return type(error).__name__
print("PROBE " + json.dumps({path: attempt(os.listdir if kind == "list" else (lambda p: open(p).read(1)), path)
                             for kind, path in %r}))'''


def test_b_cannot_reach_a_or_the_instructor(released, chromium, artifacts):
    hub = released
    a_home, course = Path(home_of(student_a(hub))), hub.instructor_course()
    attempts = [("list", str(a_home)), ("read", str(a_home / ASSIGNMENT / f"{NOTEBOOK}.ipynb")),
                ("list", str(hub.exchange / hub.course_id / "inbound")),
                ("list", str(course)), ("read", str(course / "solutions" / ASSIGNMENT / f"{NOTEBOOK}.ipynb")),
                ("read", str(course / "gradebook.db")), ("read", str(course / "grades" / "grades.csv")),
                ("list", str(hub.installation / "solutions"))]
    page = log_in(chromium, hub, student_b(hub))
    b = UserServer(hub, student_b(hub))
    through_api = {path: page.request.get(b.url(path)).status for path in (
        f"api/contents/..%2F{student_a(hub)}", f"files/..%2F{student_a(hub)}/{ASSIGNMENT}/{NOTEBOOK}.ipynb")}
    through_api[f"/user/{student_a(hub)}/api/contents"] = page.request.get(
        UserServer(hub, student_a(hub)).url("api/contents"), max_redirects=0).status
    assert all(status in (302, 403, 404) for status in through_api.values()), (
        f"B's browser reached A's files: {through_api}")

    probe = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(PROBE % attempts)],
                                     metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                              "language": "python"}})
    hub.as_user(student_b(hub), "sh", "-c", 'cat > probe.ipynb', input=nbformat.writes(probe))
    lab = NotebookPage(page, b, "probe.ipynb")
    lab.run_cell(0)
    page.screenshot(path=str(artifacts / "hub-b-kernel-probe.png"))
    output = lab.output_text(0)
    page.context.close()
    found = json.loads(output.split("PROBE ", 1)[1])
    allowed = [path for path, outcome in found.items() if outcome == "allowed"]
    assert not allowed, f"B's kernel reached: {allowed}"
    assert set(found) == {path for _, path in attempts}, output


def test_only_the_instructor_has_formgrader(released, chromium):
    hub = released
    page = log_in(chromium, hub, hub.instructor)
    registered = {plugin: page.evaluate(f"() => jupyterapp.hasPlugin('{plugin}')") for plugin in INSTRUCTOR_PLUGINS}
    status = page.request.get(UserServer(hub, hub.instructor).url("formgrader")).status
    page.context.close()
    assert all(registered.values()), f"instructor tools missing from the instructor's lab on the hub: {registered}"
    assert status == 200, f"the instructor's /formgrader answers HTTP {status}"
    page = log_in(chromium, hub, student_a(hub))
    registered = {plugin: page.evaluate(f"() => jupyterapp.hasPlugin('{plugin}')") for plugin in INSTRUCTOR_PLUGINS}
    status = page.request.get(UserServer(hub, student_a(hub)).url("formgrader")).status
    page.context.close()
    assert not any(registered.values()), f"instructor tools in a student's lab on the hub: {registered}"
    assert status == 404, f"a student's /formgrader answers HTTP {status}, not 404"
