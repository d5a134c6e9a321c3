from types import SimpleNamespace

from course_lib.grading.isolation import kernel_environment
from course_lib.grading.settings import Settings


def test_graded_kernels_get_their_threads_and_openmp_threads_that_sleep_while_they_wait(tmp_path):
    environment = kernel_environment(SimpleNamespace(root=tmp_path), Settings(threads=2))
    assert {name: environment[name] for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")} == {
        "OMP_NUM_THREADS": "2", "MKL_NUM_THREADS": "2", "OPENBLAS_NUM_THREADS": "2"}
    # spinning threads would spend the cell's CPU-time limit on waiting for a busy machine
    assert environment["OMP_WAIT_POLICY"] == "PASSIVE"
    assert environment["COURSE_GRADING"] == "1" and (tmp_path / "home" / "tmp").is_dir()
