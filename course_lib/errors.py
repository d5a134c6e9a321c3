"""The one exception type the course raises for problems a user can fix."""


class CourseError(Exception):
    """A problem with the user's input or setup, with a message that says how to fix it.

    The `course` command prints these as one line and exits non-zero; anything else
    escaping is a bug and keeps its traceback.
    """
