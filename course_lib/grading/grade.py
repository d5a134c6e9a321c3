"""`course grade`: grade a class's submissions, in parallel, resumably.

1. find the submissions (`submissions`) and prepare each assignment's template (`template`);
2. give each student × assignment a key: the hash of the submitted files, the assignment's
   source and the grading settings. A finished record with the same key is kept, so a
   re-run regrades only what changed and an interrupted run picks up where it stopped;
3. run a worker process per remaining job (`worker`), at most `workers` at once, each in
   its own session so that one that outlives `job_timeout` is killed with its kernel and
   recorded as ungradable; progress shows students done / total and failures so far;
4. write grades.csv, totals.csv (`results`), the class's nbgrader gradebook and configuration
   for formgrader (`gradebook`) and report.html (`report`) from the records.
"""
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from tqdm.auto import tqdm

from ..errors import CourseError
from .course import resolve_assignments
from .feedback import PRIVATE_COURSE_PREFIX
from .gradebook import write_class_gradebook
from .settings import Settings
from .results import GRADED, STATE, Record, load_record, save_record, write_sheets
from .submissions import discover, opened
from .template import prepare_template

GRADER_VERSION = "2"  # part of every key: bump it when grading itself changes


@dataclass
class Options:
    assignments: list = field(default_factory=list)   # none: every assignment with a source
    workers: int = 1
    job_timeout: int = 1800   # seconds one student's assignment may take, all in all
    settings: Settings = field(default_factory=Settings)
    progress: bool = True


@dataclass
class Outcome:
    records: list
    problems: list   # submissions.Problem
    graded_now: int
    reused: int


def grade(course_root, submissions_path, out, options):
    """Grade everything in `submissions_path` into `out`; returns the Outcome."""
    from .report import write_report

    out = Path(out).resolve()
    course_root = Path(course_root).resolve()
    if out == course_root or course_root.is_relative_to(out):
        raise CourseError(f"--out {out} would hold the course itself: choose a folder of its own")
    assignments = resolve_assignments(course_root, options.assignments)
    templates = {name: prepare_template(course_root, name, out / STATE / "templates" / name)
                 for name in assignments}
    with opened(submissions_path) as folder:
        found = discover(folder, {name: list(t.notebooks) for name, t in templates.items()})
        submitted = {(s.student, s.assignment): s for s in found.submissions}
        students = sorted({s.student for s in found.submissions})
        jobs, records, reused = [], {}, 0
        for student in students:
            for assignment, template in templates.items():
                submission = submitted.get((student, assignment))
                if submission is None:
                    records[student, assignment] = Record.not_submitted(template, student)
                    continue
                key = _key(submission, template, options.settings)
                record = load_record(out, student, assignment)
                if record is not None and record.key == key:
                    records[student, assignment] = record
                    reused += 1
                else:
                    jobs.append(_job(course_root, out, submission, template, key, options.settings))
        for record in _run_jobs(jobs, out, options, templates, already=reused):
            records[record.student, record.assignment] = record
    ordered = [records[key] for key in sorted(records)]
    write_sheets(out, ordered, assignments)
    write_class_gradebook(out, ordered, templates, course_root)
    write_report(out, ordered, found.problems, templates)
    return Outcome(ordered, found.problems, len(jobs), reused)


def _key(submission, template, settings):
    digest = hashlib.sha256(f"{GRADER_VERSION}\0{template.source_hash}\0".encode())
    digest.update(json.dumps(asdict(settings), sort_keys=True).encode())
    for name in sorted(submission.notebooks):
        digest.update(b"\0" + name.encode() + b"\0" + Path(submission.notebooks[name]).read_bytes())
    return digest.hexdigest()


def _job(course_root, out, submission, template, key, settings):
    return {"course_root": str(course_root), "out": str(out), "student": submission.student,
            "assignment": submission.assignment, "template": str(template.folder), "key": key,
            "notebooks": {name: str(path) for name, path in submission.notebooks.items()},
            "settings": asdict(settings)}


def _run_jobs(jobs, out, options, templates, already):
    """Run the jobs in worker processes, `options.workers` at a time; yields each record."""
    waiting, running = list(jobs), {}
    failures = 0
    bar = tqdm(total=len(jobs) + already, initial=already, unit="submission", desc="grading",
               disable=not options.progress or not jobs)
    try:
        while waiting or running:
            while waiting and len(running) < max(1, options.workers):
                job = waiting.pop(0)
                process, job, log = _start(job, out)
                running[process] = (job, time.monotonic(), log)
            time.sleep(0.2)
            for process, (job, started, log) in list(running.items()):
                overdue = time.monotonic() - started > options.job_timeout
                if process.poll() is None and not overdue:
                    continue
                del running[process]
                if overdue and process.poll() is None:
                    _kill(process)
                _clean_up(job, log)
                record = _finished_record(job, process, overdue, out, templates[job["assignment"]])
                failures += record.status != GRADED
                bar.update(1)
                bar.set_postfix(failures=failures)
                yield record
    finally:
        for process, (job, _, log) in running.items():
            _kill(process)
            _clean_up(job, log)
        bar.close()


def _start(job, out):
    # the private course lives outside DIR (whose .state holds the hidden tests); made here,
    # not in the worker, so that it is removed even when the worker is killed
    job = {**job, "scratch": tempfile.mkdtemp(prefix=PRIVATE_COURSE_PREFIX)}
    state = Path(out) / STATE / "jobs" / job["student"]
    state.mkdir(parents=True, exist_ok=True)
    job_file = state / f"{job['assignment']}.json"
    job_file.write_text(json.dumps(job))
    log = open(state / f"{job['assignment']}.log", "w")  # noqa: SIM115 - closed when the job ends
    process = subprocess.Popen([sys.executable, "-m", "course_lib.grading.worker", str(job_file)],
                               stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                               cwd=job_file.parent)
    return process, job, log


def _clean_up(job, log):
    log.close()
    shutil.rmtree(job["scratch"], ignore_errors=True)


def _kill(process):
    """The worker, its kernel and anything they started: the whole session."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()


def _finished_record(job, process, overdue, out, template):
    """The worker's record, or one saying why there is none. The latter gets no key, so
    that the next run tries again (a machine under load may have been the cause)."""
    record = load_record(out, job["student"], job["assignment"])
    if record is not None and record.key == job["key"] and not overdue:
        return record
    if overdue:
        reason = "grading took longer than the time limit for one submission; it was stopped"
    else:
        reason = f"the grading process failed (exit code {process.returncode}); see {_log_path(out, job)}"
    record = Record.ungradable(template, job["student"], reason, notebooks=dict.fromkeys(job["notebooks"], ""))
    save_record(out, record)
    return record


def _log_path(out, job):
    return Path(out) / STATE / "jobs" / job["student"] / f"{job['assignment']}.log"

