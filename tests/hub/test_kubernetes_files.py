"""The files for running the course on Kubernetes with Zero to JupyterHub
(deploy/kubernetes/), checked as far as this machine can without a cluster or Docker:
the Dockerfile's instructions and what it copies, the image's settings as Python, and
the helm values against the chart's setting names."""
import re
import tomllib

import yaml

import bootstrap

KUBERNETES = bootstrap.ROOT / "deploy" / "kubernetes"
DOCKERFILE_INSTRUCTIONS = {"FROM", "RUN", "CMD", "LABEL", "EXPOSE", "ENV", "ADD", "COPY", "ENTRYPOINT", "VOLUME",
                           "USER", "WORKDIR", "ARG", "ONBUILD", "STOPSIGNAL", "HEALTHCHECK", "SHELL"}
# The settings of Zero to JupyterHub's chart (4.x, values.schema) the course uses, as dotted
# paths; a misspelt one would be ignored or refused by helm.
CHART_SETTINGS = {
    "hub.config", "hub.services", "hub.extraConfig",
    "singleuser.image.name", "singleuser.image.tag", "singleuser.defaultUrl",
    "singleuser.cpu.guarantee", "singleuser.cpu.limit", "singleuser.memory.guarantee", "singleuser.memory.limit",
    "singleuser.storage.type", "singleuser.storage.capacity", "singleuser.storage.extraVolumes",
    "singleuser.storage.extraVolumeMounts", "singleuser.networkPolicy.enabled",
    "cull.enabled", "cull.timeout",
}
FREE_FORM = ("hub.config", "hub.services", "hub.extraConfig", "singleuser.storage.extraVolumes",
             "singleuser.storage.extraVolumeMounts")


def dockerfile_instructions():
    """(instruction, arguments) per instruction, continuation lines joined."""
    text = re.sub(r"\\\n", " ", (KUBERNETES / "Dockerfile").read_text())
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]
    return [tuple(line.split(None, 1)) for line in lines]


def test_dockerfile_instructions_exist_and_copy_what_the_repository_holds():
    instructions = dockerfile_instructions()
    unknown = [name for name, _ in instructions if name not in DOCKERFILE_INSTRUCTIONS]
    assert not unknown, f"not Dockerfile instructions: {unknown}"
    assert instructions[0][0] == "FROM"
    for name, arguments in instructions:
        if name == "COPY":
            *sources, _ = arguments.split()
            missing = [source for source in sources if not (bootstrap.ROOT / source).exists()]
            assert not missing, f"the Dockerfile copies what the repository lacks: {missing}"
            assert "solutions" not in sources, "the student image must not hold the solutions (hidden tests)"


def test_the_image_installs_through_the_constraints_with_the_course_python():
    instructions = dockerfile_instructions()
    installs = [arguments for name, arguments in instructions if name == "RUN" and "pip install" in arguments]
    assert installs and all("-c constraints.txt" in command for command in installs), installs
    required = tomllib.loads((bootstrap.ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    base = next(arguments for name, arguments in instructions if name == "FROM")
    version = re.search(r"python:(\d+\.\d+)", base).group(1)
    assert required == f">={version}", f"the image's Python {version} is not the course's ({required})"


def test_the_images_nbgrader_settings_are_python():
    compile((KUBERNETES / "nbgrader_config.py").read_text(), "nbgrader_config.py", "exec")


def setting_paths(values, prefix=""):
    for key, value in values.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and path not in FREE_FORM:
            yield from setting_paths(value, f"{path}.")
        else:
            yield path


def test_helm_values_use_the_charts_settings():
    values = yaml.safe_load((KUBERNETES / "values.yaml").read_text())
    unknown = sorted(set(setting_paths(values)) - CHART_SETTINGS)
    assert not unknown, f"values.yaml sets what the chart does not know (or this test does not list): {unknown}"
    for name, code in values["hub"]["extraConfig"].items():
        compile(code, f"hub.extraConfig.{name}", "exec")
    assert values["singleuser"]["cpu"]["limit"] and values["singleuser"]["memory"]["limit"], "no per-student limits"
    assert values["hub"]["config"]["JupyterHub"]["authenticator_class"] not in ("dummy", "null"), (
        "a hub for a class needs a real login")
