"""nbgrader configuration for this course (read when nbgrader runs from the course root)."""
from course_lib.runmode import grading_kernel_arguments

c = get_config()  # noqa: F821 - injected by traitlets

c.CourseDirectory.course_id = "how-nets-train"
# Solution notebooks are nbgrader's source; the student versions are its release.
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "notebooks"
# Autograde and Validate execute notebooks with long cells shrunk (course_lib.runmode).
c.Execute.extra_arguments = grading_kernel_arguments()
c.Execute.timeout = 120
# Once the last cell has run, the kernel is killed rather than asked to exit: a kernel that
# has loaded torch takes 1-2 s to shut down cleanly, and nothing it does then is graded.
c.Execute.shutdown_kernel = "immediate"
# The solutions' stored run timestamps every cell; the student version need not carry them
# (and would otherwise change in git whenever a solution is re-executed).
c.ClearOutput.remove_metadata_fields = {"collapsed", "scrolled", "execution"}
