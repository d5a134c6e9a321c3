"""JupyterHub for the course, started by `course hub start --state STATE` (which sets
$COURSE_HUB_STATE); everything it configures is in course_lib.hub.config."""
import os

from course_lib.hub.config import STATE_VARIABLE, configure

configure(get_config(), os.environ[STATE_VARIABLE])  # noqa: F821 - injected by traitlets
