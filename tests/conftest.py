"""Fixtures shared by the browser tests and the hub tests: one headless Chromium per test
worker and the folder of their screenshots.

Defined once, here, because a fixture imported into a second conftest is a second fixture:
a worker that ran both kinds of test started two Playwright instances, and Playwright's
sync API refuses to start one inside another ("using Playwright Sync API inside the asyncio
loop").
"""
import shutil

import pytest

import bootstrap
from tests.browser.lab import CHROMIUM_VARIABLE, find_chromium, launch_chromium

ARTIFACTS = bootstrap.ROOT / "build" / "test-artifacts" / "browser"


@pytest.fixture(scope="session")
def artifacts():
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def chromium():
    if find_chromium() is None:
        pytest.fail("no Chromium to drive: install Debian's (`apt-get install chromium`, as .ci/run does) "
                    f"or name one in ${CHROMIUM_VARIABLE}; `-m 'not browser'` leaves these tests out")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        yield browser
        browser.close()
