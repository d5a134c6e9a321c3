"""The grading kernel's confinement and tamper guard, each in a fresh Python process (they
change the process for good)."""
import subprocess
import sys
import textwrap

import pytest

from course_lib.grading.sandbox import landlock_abi


def run_python(code):
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.skipif(landlock_abi() < 1, reason="Linux Landlock is not available here")
def test_confined_process_reads_and_writes_only_where_allowed(tmp_path):
    (tmp_path / "secret").mkdir()
    (tmp_path / "secret" / "hidden.txt").write_text("hidden tests")
    (tmp_path / "work").mkdir()
    output = run_python(f"""
        import sys
        from course_lib.grading.sandbox import Limits, confine
        assert confine(Limits(memory_bytes=2 * 2**30), ["/usr", "/lib", "/lib64", "/etc", "/proc",
                       sys.prefix, sys.base_prefix], [{str(tmp_path / "work")!r}])
        import numpy as np
        open({str(tmp_path / "work" / "ok.txt")!r}, "w").write("fine")
        for path in [{str(tmp_path / "secret" / "hidden.txt")!r}]:
            try:
                open(path).read(); print("read")
            except PermissionError:
                print("read denied")
        try:
            open({str(tmp_path / "outside.txt")!r}, "w"); print("wrote")
        except PermissionError:
            print("write denied")
        try:
            np.ones(2**30)
        except MemoryError:
            print("memory limited")
    """)
    assert output.split("\n")[:3] == ["read denied", "write denied", "memory limited"]
    assert (tmp_path / "work" / "ok.txt").read_text() == "fine"


def test_guard_undoes_monkeypatching_and_reports_it():
    output = run_python("""
        import builtins
        import numpy as np, torch, course_lib.checking, course_lib.scratch, course_lib.training
        from course_lib.grading import guard
        guard.take_snapshot()
        torch.optim.SGD([torch.zeros(2, requires_grad=True)], lr=0.1)  # torch patches itself
        print(guard.changes())
        np.allclose = lambda *args, **kwargs: True
        torch.allclose = lambda *args, **kwargs: True
        builtins.abs = lambda x: 0
        course_lib.checking.check_array = print
        course_lib.training.train_epoch = lambda *args: None
        course_lib.scratch.sigmoid.__code__ = (lambda x: 0).__code__
        torch.Tensor.__eq__ = lambda *args: True
        changes = guard.changes()
        print(len(changes), sorted(changes)[:3])
        namespace = {"np": None, "checking": None}
        guard.restore(namespace, "import numpy as np\\nfrom course_lib import checking")
        print(guard.changes())
        print(np.allclose(1, 2), torch.allclose(torch.zeros(1), torch.ones(1)), abs(-1),
              course_lib.checking.check_array is not print, float(course_lib.scratch.sigmoid(np.array(0.0))),
              "__eq__" in vars(torch.Tensor), namespace["np"] is np, namespace["checking"] is course_lib.checking)
    """)
    lines = output.strip().split("\n")
    assert lines[0] == "[]"
    assert lines[1].startswith("7 ")
    assert lines[2] == "[]"
    assert lines[3] == "False False 1 True 0.5 False True True"
