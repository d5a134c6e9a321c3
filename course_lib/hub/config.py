"""JupyterHub's configuration for the course, from the state `course hub setup` wrote
(deploy/hub/jupyterhub_config.py calls `configure`).

Users log in with their account's password (PAM); only the roster's accounts may. Each
user's JupyterLab is spawned as that user (LocalProcessSpawner) in the course's
environment, in their home, with their role's settings first on JUPYTER_CONFIG_PATH:
the hub's nbgrader settings (STATE/roles/<role>/), then the course's role setup
(jupyter_roles/<role>/: students get the Assignment List and Validate, the instructor also
formgrader and create-assignment)."""
import os
from pathlib import Path

from .setup import proxy_command, read_state

STATE_VARIABLE = "COURSE_HUB_STATE"
HUB_FILES_DIRECTORY = "hub"  # the hub's database and cookie secret, root's alone
SPAWN_SECONDS = 120


def role_environment(state, state_dir, role):
    paths = [state.role_config(state_dir, role), Path(state.course_root) / "jupyter_roles" / role]
    return {"JUPYTER_CONFIG_PATH": os.pathsep.join(map(str, paths))}


def configure(c, state_dir):
    state_dir = Path(state_dir).resolve()
    state = read_state(state_dir)
    hub_files = state_dir / HUB_FILES_DIRECTORY
    hub_files.mkdir(mode=0o700, exist_ok=True)
    roster = state.roster
    python_bin = Path(state.python).parent

    c.JupyterHub.authenticator_class = "pam"
    c.PAMAuthenticator.open_sessions = False  # no login session per server: containers often lack one
    c.Authenticator.allowed_users = set(roster.everyone)
    c.JupyterHub.spawner_class = "localprocess"
    c.JupyterHub.db_url = f"sqlite:///{hub_files / 'jupyterhub.sqlite'}"
    c.JupyterHub.cookie_secret_file = str(hub_files / "jupyterhub_cookie_secret")
    c.ConfigurableHTTPProxy.command = [str(proxy_command(state_dir))]
    c.ConfigurableHTTPProxy.pid_file = str(hub_files / "proxy.pid")

    # by module, not by script: a script's first line may name another interpreter
    c.Spawner.cmd = [state.python, "-m", "jupyterhub.singleuser"]
    c.Spawner.notebook_dir = "~"
    c.Spawner.default_url = "/lab"
    c.Spawner.start_timeout = c.Spawner.http_timeout = SPAWN_SECONDS
    # the installation first on sys.path: its course_lib is the one the kernels import
    common = {"PATH": os.pathsep.join([str(python_bin), "/usr/local/bin", "/usr/bin", "/bin"]),
              "PYTHONPATH": state.course_root}
    if state.data_dir:
        common["COURSE_DATA_DIR"] = state.data_dir

    def set_role(spawner):
        role = roster.role_of(spawner.user.name)
        spawner.environment = {**common, **role_environment(state, state_dir, role)}

    c.Spawner.pre_spawn_hook = set_role
