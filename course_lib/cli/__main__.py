"""`python -m course_lib.cli`: the `course` command run by an interpreter named explicitly,
as the hub does for its users."""
import sys

from . import main

sys.exit(main())
