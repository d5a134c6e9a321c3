"""The class list a hub is set up from: a CSV with the columns `id` and `role`
(`student` or `instructor`), one row per person, ids being their login names."""
import csv
import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import CourseError

ROLES = ("student", "instructor")
# Login names useradd accepts everywhere and nbgrader can split on '+': lower-case letters,
# digits, '_' and '-', starting with a letter, at most 32 characters.
LOGIN_NAME = re.compile(r"[a-z][a-z0-9_-]{0,31}")


@dataclass(frozen=True)
class Roster:
    students: tuple
    instructors: tuple

    @property
    def everyone(self):
        return self.instructors + self.students

    def role_of(self, login):
        return "instructor" if login in self.instructors else "student"


def read_roster(path):
    path = Path(path)
    try:
        with open(path, newline="") as file:
            rows = list(csv.DictReader(file))
    except OSError as error:
        raise CourseError(f"cannot read the roster {path}: {error.strerror}") from error
    if not rows or {"id", "role"} - set(rows[0]):
        raise CourseError(f"{path}: a roster is a CSV with the header `id,role` and one row per person")
    by_role = {role: [] for role in ROLES}
    for line, row in enumerate(rows, start=2):
        login, role = (row["id"] or "").strip(), (row["role"] or "").strip()
        if not LOGIN_NAME.fullmatch(login):
            raise CourseError(f"{path}, line {line}: {login!r} is not a login name (lower-case letters, "
                              "digits, '_' and '-', starting with a letter, at most 32 characters)")
        if role not in ROLES:
            raise CourseError(f"{path}, line {line}: role {role!r} should be one of {', '.join(ROLES)}")
        if any(login in logins for logins in by_role.values()):
            raise CourseError(f"{path}, line {line}: {login} is listed twice")
        by_role[role].append(login)
    if not by_role["instructor"]:
        raise CourseError(f"{path}: no instructor: add a row `<login>,instructor`")
    return Roster(students=tuple(by_role["student"]), instructors=tuple(by_role["instructor"]))


def write_roster(path, roster):
    with open(path, "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["id", "role"])
        writer.writerows([(login, roster.role_of(login)) for login in roster.everyone])
