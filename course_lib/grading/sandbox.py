"""Confine the process that runs a student's code: resource limits and a filesystem sandbox.

`confine` is called by the grading kernel (`kernel.py`) on itself before it runs any
submitted code. The limits are ordinary rlimits (address space, size of files written,
number of processes). The filesystem sandbox is Linux Landlock: after it, the process and
everything it starts can read only the folders it was given read access to and write only
the ones it was given write access to — whatever the user's permissions, root included. It
cannot be lifted by the process that it confines. On a kernel without Landlock (not Linux,
or older than 5.13) the sandbox is skipped and `confine` says so; the limits still apply.
"""
import ctypes
import os
import resource
from dataclasses import dataclass

# Landlock's ABI (linux/landlock.h); the syscall numbers are the same on every architecture.
_CREATE_RULESET, _ADD_RULE, _RESTRICT_SELF = 444, 445, 446
_CREATE_RULESET_VERSION = 1
_RULE_PATH_BENEATH = 1
_PR_SET_NO_NEW_PRIVS = 38

EXECUTE, WRITE_FILE, READ_FILE, READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
REMOVE_DIR, REMOVE_FILE, MAKE_CHAR, MAKE_DIR = 1 << 4, 1 << 5, 1 << 6, 1 << 7
MAKE_REG, MAKE_SOCK, MAKE_FIFO, MAKE_BLOCK, MAKE_SYM = 1 << 8, 1 << 9, 1 << 10, 1 << 11, 1 << 12
REFER, TRUNCATE = 1 << 13, 1 << 14  # ABI 2 and ABI 3

READ = EXECUTE | READ_FILE | READ_DIR
FILE_RIGHTS = EXECUTE | READ_FILE | WRITE_FILE | TRUNCATE  # the rights a rule on a file may grant


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64)]


class _PathBeneathAttr(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


@dataclass(frozen=True)
class Limits:
    """Per-process limits for a grading kernel; None leaves a limit as it is."""
    memory_bytes: int | None = 4 * 2**30
    file_bytes: int | None = 256 * 2**20
    processes: int | None = None


def landlock_abi():
    """The kernel's Landlock ABI version, 0 when Landlock is unavailable."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        version = libc.syscall(_CREATE_RULESET, None, ctypes.c_size_t(0), _CREATE_RULESET_VERSION)
    except (OSError, AttributeError):
        return 0
    return max(version, 0)


def apply_limits(limits):
    """Set soft and hard rlimits, so the process cannot raise them again (unless privileged)."""
    for name, value in ((resource.RLIMIT_AS, limits.memory_bytes),
                        (resource.RLIMIT_FSIZE, limits.file_bytes),
                        (resource.RLIMIT_NPROC, limits.processes)):
        if value is not None:
            resource.setrlimit(name, (value, value))


def restrict_filesystem(read_only, read_write):
    """Allow reading only beneath `read_only` and `read_write`, writing only beneath
    `read_write`; paths that do not exist are skipped. Returns False (and changes nothing)
    when Landlock is unavailable."""
    abi = landlock_abi()
    if abi < 1:
        return False
    handled = READ | WRITE_FILE | REMOVE_DIR | REMOVE_FILE | MAKE_CHAR | MAKE_DIR | MAKE_REG
    handled |= MAKE_SOCK | MAKE_FIFO | MAKE_BLOCK | MAKE_SYM
    handled |= (REFER if abi >= 2 else 0) | (TRUNCATE if abi >= 3 else 0)
    libc = ctypes.CDLL(None, use_errno=True)
    ruleset = _RulesetAttr(handled)
    ruleset_fd = libc.syscall(_CREATE_RULESET, ctypes.byref(ruleset), ctypes.c_size_t(ctypes.sizeof(ruleset)), 0)
    if ruleset_fd < 0:
        raise OSError(ctypes.get_errno(), "landlock_create_ruleset failed")
    try:
        for paths, rights in ((read_only, READ), (read_write, handled)):
            for path in paths:
                _allow(libc, ruleset_fd, path, rights & handled)
        if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS) failed")
        if libc.syscall(_RESTRICT_SELF, ruleset_fd, 0) != 0:
            raise OSError(ctypes.get_errno(), "landlock_restrict_self failed")
    finally:
        os.close(ruleset_fd)
    return True


def _allow(libc, ruleset_fd, path, rights):
    try:
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except FileNotFoundError:
        return
    try:
        if not os.path.isdir(path):
            rights &= FILE_RIGHTS
        rule = _PathBeneathAttr(rights, fd)
        if libc.syscall(_ADD_RULE, ruleset_fd, _RULE_PATH_BENEATH, ctypes.byref(rule), 0) != 0:
            raise OSError(ctypes.get_errno(), f"landlock_add_rule failed for {path}")
    finally:
        os.close(fd)


def confine(limits, read_only, read_write):
    """Apply `limits`, then the filesystem sandbox; True when the sandbox is in place."""
    apply_limits(limits)
    return restrict_filesystem(read_only, read_write)
