"""Fixtures of the browser tests: JupyterLab in the student's setup on a temporary copy of
the course, a fresh page per test, a screenshot of every test's page in
build/test-artifacts/browser/, and what the page showed in a failure's report (the
Chromium and the artifacts folder are tests/conftest.py's, shared with the hub tests)."""
import shutil

import pytest

import bootstrap
from course_lib.runmode import GRADING_ENV_VAR
from tests.browser.lab import LabServer, describe
from tests.conftest import ARTIFACTS

VIEWPORT = {"width": 1400, "height": 900}


def student_course(folder):
    """What a student has: the released notebooks and the course's nbgrader settings
    (Validate reads them), in `folder`."""
    shutil.copytree(bootstrap.ROOT / "notebooks", folder / "notebooks")
    shutil.copy(bootstrap.ROOT / "nbgrader_config.py", folder)
    return folder


@pytest.fixture(scope="session")
def student_server(tmp_path_factory):
    course = student_course(tmp_path_factory.mktemp("student-course"))
    _, arguments = bootstrap.lab_launch("student")
    # The kernels run the long cells at their quick sizes, as Validate does: these tests
    # check what a student does and sees; nbval checks the full-size results.
    server = LabServer("student", course, arguments, tmp_path_factory.mktemp("student-server"),
                       environment={GRADING_ENV_VAR: "1"})
    yield server
    server.stop()


@pytest.fixture
def student_lab(student_server):
    """The student's server with every notebook as released: tests save their work, and
    each starts from a fresh notebook as a student does."""
    shutil.copytree(bootstrap.ROOT / "notebooks", student_server.folder / "notebooks", dirs_exist_ok=True)
    return student_server


@pytest.fixture
def page(chromium, artifacts, request):
    context = chromium.new_context(viewport=VIEWPORT)
    page = context.new_page()
    yield page
    page.screenshot(path=str(artifacts / f"{_file_name(request.node.name)}.png"))
    context.close()
    for server in LabServer.running:  # a kernel left running would slow down the next test
        server.shut_down_kernels()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    page = item.funcargs.get("page") if hasattr(item, "funcargs") else None
    if report.failed and page is not None and not page.is_closed():
        shot = ARTIFACTS / f"{_file_name(item.name)}-failed.png"
        try:
            page.screenshot(path=str(shot), full_page=False)
            report.sections.append(("screenshot", str(shot)))
        except Exception:  # noqa: BLE001 - the description below still helps
            pass
        report.sections.append(("what the page showed", describe(page)))
        for server in (value for value in item.funcargs.values() if isinstance(value, LabServer)):
            report.sections.append((f"jupyter lab ({server.role}) log, last lines", server.log_tail()))


def _file_name(test_name):
    return "".join(character if character.isalnum() or character in "-_." else "_" for character in test_name)
