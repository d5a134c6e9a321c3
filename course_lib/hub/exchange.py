"""nbgrader's exchange on a shared server, and the instructor's steps on it: release an
assignment, collect the submissions, grade them (`course grade`), release the feedback.

Each step runs as the instructor, in the instructor's course folder, through nbgrader's
own exchange classes with the course's configuration (`Exchange.root` included). The
exchange folder and its permissions follow nbgrader's documentation: its root is
writable by everyone (0777, which nbgrader insists on) with the sticky bit, so that no one
renames or removes another's folder in it; the course's folder, made by `course hub setup`
before any student could claim the name, belongs to the instructor; and nbgrader
creates `outbound/` (readable by all), `inbound/` (students may write and enter, not
list: a submission's name ends in a random string) and `feedback/` (entered by hash).

nbgrader takes the student id a submission claims from its name, which a student may
choose (`nbgrader submit --student=...`), and only warns when the submission's owner
differs; `collect` here leaves such submissions out and reports them."""
import glob
import os
import pwd
import shutil
from itertools import groupby
from pathlib import Path

from ..errors import CourseError
from ..grading.course import course_config

FEEDBACK_DIRECTORY = "feedback"  # nbgrader's default: feedback/<student>/<assignment>/
GRADES_DIRECTORY = "grades"  # `course grade --out` in the instructor's course folder
SUBMITTED_DIRECTORY = "submitted"
AUTOGRADED_DIRECTORY = "autograded"  # `course grade`'s, beside its feedback/
REPORT_FILE = "report.html"
# nbgrader's release_feedback names a student's feedback by a hash of these files, which
# the student's own submission cache also holds: only that student can find it.
SUBMISSION_KEYS = ("timestamp.txt", "submission_secret.txt")
EXCHANGE_ROOT_MODE = 0o1777
COURSE_EXCHANGE_MODE = 0o755
FEEDBACK_MODE = 0o644


def create_exchange(root, course_id, instructor):
    """The exchange root (root's, sticky) and the course's folder in it (the instructor's)."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    os.chown(root, 0, 0)
    root.chmod(EXCHANGE_ROOT_MODE)
    course = root / course_id
    course.mkdir(exist_ok=True)
    account = pwd.getpwnam(instructor)
    os.chown(course, account.pw_uid, account.pw_gid)
    course.chmod(COURSE_EXCHANGE_MODE)
    return course


def _exchange(kind, course_root, assignment, **options):
    from nbgrader.auth import Authenticator
    from nbgrader.coursedir import CourseDirectory
    from nbgrader.exchange import ExchangeError

    config = course_config(course_root)
    coursedir = CourseDirectory(config=config)
    coursedir.assignment_id = assignment
    step = kind(coursedir=coursedir, authenticator=Authenticator(config=config), config=config, **options)
    try:
        step.start()
    except ExchangeError as error:
        raise CourseError(f"nbgrader's exchange refused: {error}") from error
    return step


def release(course_root, assignment):
    """Copy notebooks/<assignment>/ into the exchange, where students' Assignment List
    fetches it (re-releasing replaces it)."""
    from nbgrader.exchange.default import ExchangeReleaseAssignment

    _exchange(ExchangeReleaseAssignment, course_root, assignment, force=True)


def _owner(path):
    try:
        return pwd.getpwuid(os.stat(path).st_uid).pw_name
    except KeyError:
        return None


def _collect_class():
    from nbgrader.exchange.default import ExchangeCollect

    class OwnerCheckedCollect(ExchangeCollect):
        """nbgrader's collect, keeping only submissions owned by the account they name: the
        newest of each student's own (this course sets no due dates), the rest in `forged`."""

        def init_src(self):
            super().init_src()  # checks the inbound folder; its choice is made again below
            pattern = os.path.join(self.inbound_path, f"*+{glob.escape(self.coursedir.assignment_id)}+*")
            records = [self._path_to_record(path) for path in glob.glob(pattern)]
            owned = {record["filename"]: _owner(os.path.join(self.inbound_path, record["filename"]))
                     for record in records}
            self.forged = [(record["username"], owned[record["filename"]]) for record in records
                           if owned[record["filename"]] != record["username"]]
            genuine = sorted((record for record in records if owned[record["filename"]] == record["username"]),
                             key=lambda record: record["username"])
            self.src_records = [self._sort_by_timestamp(list(group))[0]
                                for _, group in groupby(genuine, key=lambda record: record["username"])]

    return OwnerCheckedCollect


def collect(course_root, assignment):
    """Copy each student's newest own submission into submitted/<student>/<assignment>/.
    Returns (students collected, [(claimed student, actual owner)] left out)."""
    step = _exchange(_collect_class(), course_root, assignment, update=True)
    return sorted(record["username"] for record in step.src_records), step.forged


def release_feedback(course_root, assignment):
    """Put `course grade`'s feedback (grades/feedback/, without hidden tests) where
    nbgrader's release_feedback takes it, beside the keys of the submission it was made
    from, and release it into the exchange. Returns the students whose feedback went out."""
    from nbgrader.exchange.default import ExchangeReleaseFeedback

    course_root = Path(course_root)
    graded = sorted((course_root / GRADES_DIRECTORY / FEEDBACK_DIRECTORY).glob(f"*/{assignment}"))
    if not graded:
        if any((course_root / GRADES_DIRECTORY / AUTOGRADED_DIRECTORY).glob(f"*/{assignment}")):
            raise CourseError(f"{assignment} was graded, but no feedback came of it: "
                              f"{GRADES_DIRECTORY}/{REPORT_FILE} says why, under the submissions that could not be graded")
        raise CourseError(f"no feedback for {assignment} in {GRADES_DIRECTORY}/{FEEDBACK_DIRECTORY}/: "
                          f"grade it first (`course hub grade {assignment}`)")
    released = []
    for feedback in graded:
        student = feedback.parent.name
        submitted = course_root / SUBMITTED_DIRECTORY / student / assignment
        if not all((submitted / key).is_file() for key in SUBMISSION_KEYS):
            continue  # not submitted through the exchange: nothing to find it by
        outgoing = course_root / FEEDBACK_DIRECTORY / student / assignment
        shutil.rmtree(outgoing, ignore_errors=True)
        shutil.copytree(feedback, outgoing)
        for page in outgoing.glob("*.html"):
            # `course grade` writes private files, and nbgrader copies their mode into the
            # exchange: the student must read theirs (found only by its hash)
            page.chmod(FEEDBACK_MODE)
        for key in SUBMISSION_KEYS:
            shutil.copy(submitted / key, outgoing / key)
        released.append(student)
    _exchange(ExchangeReleaseFeedback, course_root, assignment)
    return released
