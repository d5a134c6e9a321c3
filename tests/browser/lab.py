"""JupyterLab in a real browser, for the browser tests.

`LabServer` starts `jupyter lab` the way bootstrap.py does for a role (the student's or
the instructor's extensions, from jupyter_roles/), on 127.0.0.1 with a random port and
token. `launch_chromium` starts Debian's Chromium through Playwright. `NotebookPage`
does what a student does in a notebook — run all, type into a cell, run a cell, press
Validate — and reads back what the page shows; `describe` writes that down when a test
fails.
"""
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import bootstrap

CHROMIUM_VARIABLE = "COURSE_CHROMIUM"
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")
# Playwright cannot download its own browser here, so it drives the system's Chromium.
# Root needs --no-sandbox; the rest stop Chromium's background traffic to Google, which a
# closed network refuses (and which has no place in a test anyway).
CHROMIUM_FLAGS = ("--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync")
JUPYTER = Path(sys.executable).parent / "jupyter"
SERVER_START_SECONDS = 90
# The notebook renders every cell (no windowing: a test reads cells anywhere in the
# notebook, as a student scrolls to them). Nothing else: the roles' own settings keep
# JupyterLab's news popup away, as they do for the course's users.
LAB_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
}
CELL_SECONDS = 300
# JupyterLab's settings for being driven by a test: the app reachable from the page
# (window.jupyterapp), no update check, and the kernels a test ends killed at once (a
# clean exit with torch loaded takes a second, and the next test waits for it).
LAB_TEST_ARGUMENTS = ("--LabApp.expose_app_in_browser=True",
                      "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
                      "--KernelManager.shutdown_wait_time=0")


def find_chromium():
    """The Chromium to drive: $COURSE_CHROMIUM, else the first of CHROMIUM_NAMES on PATH."""
    named = os.environ.get(CHROMIUM_VARIABLE)
    if named:
        return named if Path(named).is_file() else None
    return next(filter(None, map(shutil.which, CHROMIUM_NAMES)), None)


def launch_chromium(playwright):
    return playwright.chromium.launch(executable_path=find_chromium(), args=list(CHROMIUM_FLAGS))


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class LabServer:
    """`jupyter lab` for `role`, started in `folder` with bootstrap.py's arguments and
    `environment` added to the server's (and so its kernels') environment.

    Lab's own settings go to a private folder (LAB_SETTINGS); nothing of the user's own
    JupyterLab settings takes part."""

    running = []  # the servers not stopped yet: a test's end shuts down their kernels

    def __init__(self, role, folder, launch_arguments, scratch, environment=None):
        self.role, self.folder, self.scratch = role, Path(folder), Path(scratch)
        self.port, self.token = _free_port(), secrets.token_hex(16)
        self.log_path = self.scratch / f"jupyter-{role}.log"
        settings = self.scratch / "lab-settings"
        for name, values in LAB_SETTINGS.items():
            (settings / name).parent.mkdir(parents=True, exist_ok=True)
            (settings / name).write_text(json.dumps(values))
        arguments = [
            "--no-browser", "--ip=127.0.0.1", f"--port={self.port}", f"--IdentityProvider.token={self.token}",
            *launch_arguments,
            *LAB_TEST_ARGUMENTS,
            f"--LabApp.user_settings_dir={settings}", f"--LabApp.workspaces_dir={self.scratch / 'workspaces'}",
        ]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            arguments.append("--allow-root")
        environment = dict(os.environ, **bootstrap.role_environment(role), **(environment or {}),
                           JUPYTER_RUNTIME_DIR=str(self.scratch / "runtime"), OMP_NUM_THREADS="1",
                           PATH=os.pathsep.join([str(JUPYTER.parent), os.environ.get("PATH", "")]))
        self._log = open(self.log_path, "w")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen([str(JUPYTER), "lab", *arguments], cwd=self.folder, env=environment,
                                        stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)
        self._wait_until_up()
        LabServer.running.append(self)

    def url(self, path=""):
        separator = "&" if "?" in path else "?"
        return f"http://127.0.0.1:{self.port}/{path.lstrip('/')}{separator}token={self.token}"

    def get(self, path):
        """(HTTP status, body) of a GET on the server."""
        try:
            with urllib.request.urlopen(self.url(path), timeout=10) as response:
                return response.status, response.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as error:
            return error.code, ""

    def _wait_until_up(self):
        deadline = time.monotonic() + SERVER_START_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"jupyter lab ({self.role}) exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                if self.get("api/status")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.5)
        self.stop()
        raise RuntimeError(f"jupyter lab ({self.role}) did not answer within {SERVER_START_SECONDS} s:\n{self.log_tail()}")

    def shut_down_kernels(self):
        request = urllib.request.Request(self.url("api/kernels"))
        with urllib.request.urlopen(request, timeout=10) as response:
            kernels = json.loads(response.read())
        for kernel in kernels:
            urllib.request.urlopen(urllib.request.Request(self.url(f"api/kernels/{kernel['id']}"), method="DELETE"),
                                   timeout=30).close()

    def log_tail(self, lines=30):
        self._log.flush()
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self):
        if self in LabServer.running:
            LabServer.running.remove(self)
        if self.process.poll() is None:
            os.killpg(self.process.pid, 15)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, 9)
                self.process.wait()
        self._log.close()


# The open notebook as JupyterLab's model has it; the DOM shows the same, but the model
# also knows an output's type (an error versus text on stderr) and a cell's execution count.
_PANEL = "window.jupyterapp?.shell?.currentWidget"
_CELLS = f"""() => {_PANEL}.content.widgets.map(cell => ({{
    type: cell.model.type, source: cell.model.sharedModel.getSource(),
    count: cell.model.type === 'code' ? cell.model.executionCount : null,
    outputs: cell.model.type === 'code' ? cell.model.outputs.toJSON() : []}}))"""
_IDLE = f"""() => {{
    const context = {_PANEL}?.sessionContext;
    const prompts = [...document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-InputPrompt')];
    return window.__courseBusySeen === true && context?.session?.kernel?.status === 'idle'
        && !prompts.some(prompt => prompt.textContent.includes('*'));
}}"""
_WATCH_BUSY = f"""() => {{
    window.__courseBusySeen = false;
    const context = {_PANEL}.sessionContext;
    if (!window.__courseWatching?.has(context)) {{
        window.__courseWatching = window.__courseWatching || new Set();
        window.__courseWatching.add(context);
        context.statusChanged.connect((_, status) => {{ if (status === 'busy') window.__courseBusySeen = true; }});
    }}
}}"""
_KERNEL_READY = f"() => {_PANEL}?.sessionContext?.session?.kernel?.status === 'idle'"


class NotebookPage:
    """One notebook open in JupyterLab, worked as a student works it."""

    def __init__(self, page, server, path):
        self.page, self.server, self.path = page, server, path
        # ?reset: a fresh workspace, without the tabs an earlier test left open
        page.goto(server.url(f"lab/tree/{path}?reset"))
        page.wait_for_function(_KERNEL_READY, timeout=SERVER_START_SECONDS * 1000, polling=250)
        on_page = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell").count()
        if on_page != len(self.cells()):
            raise AssertionError(f"{path}: the page shows {on_page} cells, the notebook has {len(self.cells())}")

    def cells(self):
        return self.page.evaluate(_CELLS)

    def cell(self, index):
        return self.page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell").nth(index)

    def _run(self, action, seconds):
        """Do `action` (which starts code running) and wait until the kernel is done."""
        self.page.evaluate(_WATCH_BUSY)
        action()
        self.page.wait_for_function(_IDLE, timeout=seconds * 1000, polling=250)

    def run_all(self, seconds=CELL_SECONDS):
        """Run ▸ Run All Cells, as from the menu; JupyterLab stops at the first error."""
        def click_menu():
            self.page.locator("#jp-menu-panel").get_by_text("Run", exact=True).click()
            self.page.locator('li[data-command="runmenu:run-all"]').click()
        self._run(click_menu, seconds)

    def select(self, index):
        """Select cell `index` in command mode, as a click on its prompt does."""
        self.cell(index).locator(".jp-InputPrompt").click()
        self.page.keyboard.press("Escape")

    def run_cell(self, index, seconds=CELL_SECONDS):
        """Select cell `index` and press Ctrl+Enter."""
        self.select(index)
        self._run(lambda: self.page.keyboard.press("Control+Enter"), seconds)

    def record_output(self, index, selector):
        """From now on, note every text cell `index`'s output shows while an element matching
        `selector` is in it (e.g. a progress bar, which may close again within milliseconds).
        `recorded_output()` returns the texts noted."""
        self.cell(index).locator(".jp-Cell-outputWrapper").evaluate("""(area, selector) => {
            window.__courseRecorded = [];
            new MutationObserver(() => {
                if (area.querySelector(selector)) window.__courseRecorded.push(area.innerText);
            }).observe(area, {childList: true, subtree: true, characterData: true, attributes: true});
        }""", selector)

    def recorded_output(self):
        return self.page.evaluate("() => window.__courseRecorded || []")

    def type_into(self, index, text):
        """Replace the source of cell `index` by typing `text` into its editor."""
        self.select(index)
        self.page.keyboard.press("Enter")  # edit mode, also for a rendered Markdown cell
        self.page.keyboard.press("Control+A")
        # insert_text types the text as one input: the editor's auto-indentation, which
        # a student's own Enter key triggers, would otherwise indent pasted code twice.
        self.page.keyboard.insert_text(text)
        typed = self.cells()[index]["source"]
        if typed != text:
            raise AssertionError(f"cell {index} holds, after typing:\n{typed}\n--- instead of:\n{text}")

    def output_text(self, index):
        """What the page shows under cell `index`."""
        return self.cell(index).locator(".jp-OutputArea").inner_text()

    def errors(self, index):
        return [output for output in self.cells()[index]["outputs"] if output["output_type"] == "error"]

    def validate(self, screenshot, seconds=CELL_SECONDS):
        """Press nbgrader's Validate button; returns the text of the result dialog, which is
        saved to the file `screenshot`, then closed."""
        self.page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Toolbar").get_by_text("Validate", exact=True).click()
        dialog = self.page.locator(".jp-Dialog")
        dialog.wait_for(timeout=seconds * 1000)
        text = dialog.locator(".jp-Dialog-content").inner_text()
        self.page.screenshot(path=str(screenshot))
        dialog.locator(".jp-Dialog-button").last.click()
        return text

    def save(self):
        self.page.keyboard.press("Control+s")
        self.page.wait_for_function(f"() => !{_PANEL}.context.model.dirty", timeout=30_000)


def describe(page):
    """What a page showed, in words: its address, an open dialog, and for a notebook the
    cells that ran with what they printed — for the report of a failed test."""
    lines = [f"page: {page.url}"]
    try:
        for dialog in page.locator(".jp-Dialog").all():
            lines.append("dialog: " + dialog.inner_text().strip().replace("\n", " | "))
        if page.evaluate(f"() => Boolean({_PANEL}?.content?.widgets)"):
            lines.append("kernel: " + str(page.evaluate(f"() => {_PANEL}.sessionContext?.session?.kernel?.status")))
            for index, cell in enumerate(page.evaluate(_CELLS)):
                if cell["type"] == "code" and (cell["count"] or cell["outputs"]):
                    lines.append(f"cell {index} [{cell['count'] or ' '}]: {cell['source'].strip().splitlines()[0][:100] if cell['source'].strip() else ''}")
                    lines.extend("    " + line for line in _output_lines(cell["outputs"]))
        else:
            lines.append("text: " + page.locator("body").inner_text()[:3000])
    except Exception as error:  # noqa: BLE001 - a description is best effort; the test already failed
        lines.append(f"(could not read the page further: {error})")
    return "\n".join(lines)


def _output_lines(outputs, keep=6):
    lines = []
    for output in outputs:
        if output["output_type"] == "error":
            lines.append(f"{output['ename']}: {output['evalue']}"[:500])
        elif output["output_type"] == "stream":
            lines.extend(output["text"].rstrip().splitlines()[-keep:])
        else:
            lines.append("<" + ", ".join(output.get("data", {})) + ">")
    return lines
