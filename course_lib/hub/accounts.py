"""Local Unix accounts for the hub's users: each user's JupyterLab and kernels run as
their own account, so the file system's permissions keep students apart.

Passwords are random (`secrets`), set with chpasswd and checked by JupyterHub through
PAM; an account that already exists keeps its password."""
import os
import pwd
import secrets
import subprocess

from ..errors import CourseError

PASSWORD_BYTES = 12  # 16 URL-safe characters, 96 random bits
PRIVATE_HOME = 0o700


def require_root(what):
    if os.geteuid() != 0:
        raise CourseError(f"{what} needs root (local accounts, spawning as each user): run it with sudo")


def exists(login):
    try:
        pwd.getpwnam(login)
    except KeyError:
        return False
    return True


def uid_of(login):
    return pwd.getpwnam(login).pw_uid


def home_of(login):
    return pwd.getpwnam(login).pw_dir


def create_accounts(logins):
    """Create each missing account with a private home and a random password; returns
    {login: password} for the accounts created (existing ones are left as they are)."""
    require_root("creating accounts")
    created = {}
    for login in logins:
        if exists(login):
            continue
        _run("useradd", "--create-home", "--shell", "/bin/bash", "--comment", "how-nets-train hub", login)
        created[login] = secrets.token_urlsafe(PASSWORD_BYTES)
        _run("chpasswd", input=f"{login}:{created[login]}\n")
        os.chmod(home_of(login), PRIVATE_HOME)
    return created


def remove_accounts(logins):
    """Remove the accounts and their homes (userdel --remove); missing ones are skipped."""
    require_root("removing accounts")
    for login in logins:
        if exists(login):
            _run("userdel", "--remove", login, allowed_codes=(0, 12))  # 12: no mail spool to remove


def _run(*command, input=None, allowed_codes=(0,)):
    done = subprocess.run(command, input=input, capture_output=True, text=True)
    if done.returncode not in allowed_codes:
        raise CourseError(f"{' '.join(command[:2])} … failed ({done.returncode}): {done.stderr.strip()}")
