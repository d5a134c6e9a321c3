"""course_lib.data: every name it exports, and the commands that use it without torch."""
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

import course_lib.data

ROOT = Path(__file__).resolve().parents[2]


def test_every_exported_name_is_its_modules_own():
    for name in course_lib.data.__all__:
        value = getattr(course_lib.data, name)
        assert value is getattr(importlib.import_module(value.__module__), name), name


def test_an_unknown_name_raises_attribute_error():
    with pytest.raises(AttributeError, match="course_lib.data' has no attribute 'load_cifar'"):
        course_lib.data.load_cifar  # noqa: B018


def test_the_course_command_and_a_grading_job_start_without_torch():
    probe = ("import sys, course_lib.cli, course_lib.grading.grade, course_lib.grading.worker; "
             "print(sorted(name for name in sys.modules if name == 'torch' or name.startswith('torch.'))[:3])")
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True,
                            cwd=ROOT).stdout.strip()
    assert loaded == "[]", f"importing the `course` command and a grading job loads torch ({loaded}): 1.5 s each"
