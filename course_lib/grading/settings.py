"""How `course grade` runs submissions: the knobs of its command line, in one place."""
import math
from dataclasses import dataclass

# A cell that waits rather than computes (sleep, a lock) is stopped by wall time instead,
# after this many times its CPU-time limit, room enough for a grading machine under load.
WALL_TIME_FACTOR = 4


@dataclass(frozen=True)
class Settings:
    """How submissions are run; the command line sets these."""
    cell_timeout: float = 120         # seconds of CPU time a cell may use before it is stopped
    cell_wall_timeout: float | None = None  # seconds of wall time; None: WALL_TIME_FACTOR × cell_timeout
    memory_bytes: int = 4 * 2**30     # address space of a kernel
    output_chars: int = 100_000       # characters a cell may print; and per stored output
    threads: int = 1                  # BLAS / OpenMP / torch threads of a kernel

    @property
    def wall_timeout(self):
        """Whole seconds, as nbclient takes them."""
        return math.ceil(self.cell_wall_timeout or WALL_TIME_FACTOR * self.cell_timeout)
