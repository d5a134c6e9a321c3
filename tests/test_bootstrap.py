"""bootstrap.py's test command (its JupyterLab setups are tests/test_jupyter_setup.py's)."""
import os

import pytest

import bootstrap


class Replaced(Exception):
    """os.execve does not return: neither does its stand-in."""


def test_the_suite_runs_with_bytecode_caching_on_whatever_the_callers_environment(monkeypatch):
    started = {}

    def execve(executable, argv, environment):
        started.update(argv=argv, environment=environment)
        raise Replaced

    monkeypatch.setattr(bootstrap, "ensure_environment", lambda: None)
    monkeypatch.setattr(os, "execve", execve)
    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")
    monkeypatch.chdir(bootstrap.ROOT)

    with pytest.raises(Replaced):
        bootstrap.main(["test", "-k", "something"])

    assert started["argv"][1:] == ["-m", "pytest", "-k", "something"]
    # an empty value switches it off, for pytest and every kernel it starts
    assert started["environment"]["PYTHONDONTWRITEBYTECODE"] == ""
