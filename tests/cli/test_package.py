"""kore-resources as users install it: the built wheels (the provider's, which holds no emulator, and
kore-sandbox's) in a fresh virtualenv outside the repository, installed as users do
(`pip install "kore-resources[sandbox]"` from an index that serves both), a program that uses it against
the sandbox that `kore-sandbox` starts, `pip install .` and `pip install "kore-resources @ git+<url>"`, the
`pulumi new` template rendered by the real CLI and deployed with the wheel, and the README's one command for
a new project from a checkout (`scripts/new-project.sh`), previewed and deployed against its sandbox.

Everything runs outside the repository's directory, so nothing can come from the source tree by accident.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from cli_harness import COMMAND_TIMEOUT, PULUMI, Cli, free_port, fresh_checkout
from demo_values import CREDENTIALS_CONFIG, SECRET
from kore_resources import __version__
from kore_sandbox import DEMO_BOTS
from kore_sandbox import __version__ as sandbox_version

pytestmark = pytest.mark.cli

ROOT = Path(__file__).resolve().parents[2]
SANDBOX_SOURCE = ROOT / "kore-sandbox"
TEMPLATE = ROOT / "templates" / "kore-bot"


def run(*args: str | Path, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    command = [str(a) for a in args]
    result = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=COMMAND_TIMEOUT, check=False
    )
    assert result.returncode == 0, f"{' '.join(map(str, args))} failed:\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Both distributions built as wheels into one folder: what a package index would serve."""
    dist = tmp_path_factory.mktemp("dist")
    for source in (ROOT, SANDBOX_SOURCE):
        run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", dist, source, cwd=dist)
    return dist


@pytest.fixture(scope="module")
def wheel(dist: Path) -> Path:
    [built] = dist.glob("kore_resources-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(dist: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtualenv, outside the repository, with `kore-resources[sandbox]` installed from the built
    wheels (and the dependencies from the index), as the README tells users."""
    venv = tmp_path_factory.mktemp("users-venv") / "venv"
    run(sys.executable, "-m", "venv", venv, cwd=venv.parent)
    run(
        venv / "bin" / "python",
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--find-links",
        dist,
        "kore-resources[sandbox]",
        cwd=venv.parent,
    )
    return venv


class KoreSandbox:
    """`kore-sandbox --port 0` (or `port`), the sandbox wheel's console script, in the background."""

    def __init__(self, venv: Path, cwd: Path, port: int = 0, *options: str) -> None:
        self.process = subprocess.Popen(
            [
                str(venv / "bin" / "kore-sandbox"),
                "--port",
                str(port),
                "--training-seconds",
                "0.5",
                "--queue-seconds",
                "0.1",
                "--quiet",
                *options,
            ],
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert self.process.stdout is not None
        first = self.process.stdout.readline()
        assert "listening on" in first, first
        self.url = first.rsplit(" ", 1)[1].strip()

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


@pytest.fixture
def kore_sandbox(installed: Path, tmp_path: Path) -> Iterator[KoreSandbox]:
    sandbox = KoreSandbox(installed, tmp_path)
    yield sandbox
    sandbox.stop()


def test_the_wheel_holds_the_package_and_no_emulator(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    top = {name.split("/", 1)[0] for name in names}
    assert top == {"kore_resources", f"kore_resources-{__version__}.dist-info"}
    assert not [name for name in names if "sandbox" in name.lower()]
    for module in (
        "resources/bot_training.py",
        "api/client.py",
        "utterances.py",
        "provider.py",
        "pipeline_providers.py",
        "py.typed",
    ):
        assert f"kore_resources/{module}" in names, module
    metadata = zipfile.ZipFile(wheel).read(f"kore_resources-{__version__}.dist-info/METADATA").decode()
    requirements = [
        line
        for line in (ROOT / "requirements.txt").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    runtime = [
        line for line in metadata.splitlines() if line.startswith("Requires-Dist:") and "extra ==" not in line
    ]
    assert len(requirements) == len(runtime)  # requirements.txt is the one source of the runtime dependencies
    assert 'Requires-Dist: kore-sandbox<0.4,>=0.3; extra == "sandbox"' in metadata
    assert "Requires-Python: >=3.11" in metadata and "License-Expression: MIT" in metadata
    # One console script, kore-doctor; the emulator's (kore-sandbox) comes only with its own wheel.
    entry_points = zipfile.ZipFile(wheel).read(f"kore_resources-{__version__}.dist-info/entry_points.txt")
    scripts = [line.strip() for line in entry_points.decode().splitlines() if line.strip()]
    assert scripts == ["[console_scripts]", "kore-doctor = kore_resources.doctor.__main__:main"]
    assert "kore_resources/doctor/__main__.py" in names


def test_the_sandbox_wheel_holds_the_emulator_its_script_and_nothing_of_the_provider(dist: Path) -> None:
    [built] = dist.glob("kore_sandbox-*.whl")
    names = zipfile.ZipFile(built).namelist()
    top = {name.split("/", 1)[0] for name in names}
    assert top == {"kore_sandbox", f"kore_sandbox-{sandbox_version}.dist-info"}
    assert "kore_sandbox/py.typed" in names and "kore_sandbox/testing.py" in names
    metadata = zipfile.ZipFile(built).read(f"kore_sandbox-{sandbox_version}.dist-info/METADATA").decode()
    assert "Requires-Dist:" not in metadata  # the standard library only
    entry_points = zipfile.ZipFile(built).read(f"kore_sandbox-{sandbox_version}.dist-info/entry_points.txt")
    assert b"kore-sandbox = kore_sandbox.__main__:main" in entry_points


def test_a_program_using_the_installed_wheel_trains_against_its_sandbox(
    installed: Path, kore_sandbox: KoreSandbox, tmp_path: Path
) -> None:
    utterances = tmp_path / "utterances" / "en"
    utterances.mkdir(parents=True)
    (utterances / "ml.json").write_text((TEMPLATE / "utterances/en/ml-utterances.json").read_text())
    program = f"""
import json, kore_resources
from pulumi.dynamic import Config, ConfigureRequest
from kore_resources import BotTrainingProvider, hash_utterances
assert kore_resources.__file__.startswith({str(installed)!r}), kore_resources.__file__
provider = BotTrainingProvider()
provider.configure(ConfigureRequest(Config({json.dumps(CREDENTIALS_CONFIG)}, "p")))
inputs = {{"bot_id": {DEMO_BOTS[0].bot_id!r}, "utterances_hash": hash_utterances("utterances/en")}}
result = provider.create({{**inputs, "host": {kore_sandbox.url!r}, "timeout_seconds": 60.0}})
print(json.dumps(result.outs))
"""
    output = run(installed / "bin" / "python", "-c", program, cwd=tmp_path).stdout
    outs = json.loads(output.strip().splitlines()[-1])
    assert outs["training_status"] == "Finished" and outs["training_id"]


@pytest.mark.parametrize("source", ["the source tree", "a git URL"])
def test_pip_install_from_the_source_tree_and_from_git_gives_the_same_package(
    source: str, tmp_path: Path
) -> None:
    target = tmp_path / "site"
    # `file://localhost/...`: pip before 23.3 refuses a URL with an empty host ("Invalid requirement"), and
    # git reads both forms alike, so the test holds whichever pip the venv has.
    spec = str(ROOT) if source == "the source tree" else f"kore-resources @ git+file://localhost{ROOT}"
    run(
        sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", target, spec, cwd=tmp_path
    )
    assert not (target / "kore_sandbox").exists() and not (target / "bin" / "kore-sandbox").exists()
    check = (
        "import sys; sys.path.insert(0, sys.argv[1]); import kore_resources; "
        "from kore_resources import BotTraining, hash_utterances; "
        "print(kore_resources.__file__, kore_resources.__version__)"
    )
    printed = run(sys.executable, "-c", check, target, cwd=tmp_path).stdout.split()
    assert printed[0].startswith(str(target)) and printed[1] == __version__


@pytest.mark.e2e
def test_the_template_renders_and_deploys_with_the_wheel(
    pulumi_cli: str, installed: Path, kore_sandbox: KoreSandbox, tmp_path: Path
) -> None:
    project = tmp_path / "my-bot"
    bot = DEMO_BOTS[0].bot_id
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KORE_", "PULUMI_"))}
    env.update(
        {
            "PULUMI_SKIP_UPDATE_CHECK": "true",
            "PULUMI_BACKEND_URL": f"file://{tmp_path / 'state'}",
            "PULUMI_CONFIG_PASSPHRASE": "template-test",
        }
    )
    (tmp_path / "state").mkdir()
    run(
        PULUMI or "pulumi",
        "new",
        TEMPLATE,
        "--generate-only",
        "--yes",
        "--non-interactive",
        "--dir",
        project,
        "--name",
        "my-bot",
        "--description",
        "A travel bot",
        "--config",
        f"botId={bot}",
        cwd=tmp_path,
        env=env,
    )
    assert (project / "Pulumi.yaml").read_text().startswith("name: my-bot\ndescription: A travel bot\n")
    assert "# my-bot" in (project / "README.md").read_text()
    for produced in ("__main__.py", "requirements.txt", "utterances/en/ml-utterances.json", ".gitignore"):
        assert (project / produced).is_file(), produced

    # The template's requirements.txt installs kore-resources: the wheel satisfies it.
    (project / "venv").symlink_to(installed)
    pip = run(installed / "bin" / "python", "-m", "pip", "install", "-r", "requirements.txt", cwd=project)
    assert "Requirement already satisfied: kore-resources" in pip.stdout

    cli = Cli(project, tmp_path)
    cli("stack", "init", "dev")
    cli("config", "set", "kore:host", kore_sandbox.url)
    cli("config", "set", "kore:clientId", CREDENTIALS_CONFIG["kore:clientId"])
    cli("config", "set", "--secret", "kore:clientSecret", SECRET)
    cli("config", "set", "botId", bot)
    cli("up", "--yes")
    outputs = json.loads(cli("stack", "output", "--json").stdout)
    assert set(outputs["trainingIds"]) == {"en"} and outputs["trainingIds"]["en"]
    cli("up", "--yes", "--expect-no-changes")


@pytest.mark.e2e
def test_one_command_makes_a_project_of_this_checkout_that_deploys_against_its_sandbox(
    pulumi_cli: str, tmp_path: Path
) -> None:
    """From a clone, `scripts/new-project.sh DIR` (the README's command) makes a project from the template
    whose venv holds this checkout's kore-resources and the sandbox, on a file backend in the project with
    a passphrase of its own; with the environment file it wrote, `pulumi preview` and `pulumi up` work
    against that sandbox started as it says."""
    checkout = fresh_checkout(tmp_path)
    port = free_port()
    project = tmp_path / "projects" / "my-bot"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KORE_", "PULUMI_"))}
    env.update({"KORE_SANDBOX_PORT": str(port), "PULUMI_SKIP_UPDATE_CHECK": "true"})
    made = run("bash", checkout / "scripts" / "new-project.sh", project, cwd=tmp_path, env=env).stdout
    sandbox_command = f"venv/bin/kore-sandbox --port {port} --state-file .pulumi-state/sandbox-state.json &"
    for step in (f"cd {project}", ". ./pulumi-env.sh", sandbox_command, "pulumi preview", "pulumi up"):
        assert step in made, f"{step!r} is not among the next commands:\n{made}"
    assert f"backend:  file://{project}/.pulumi-state (a folder of the project)" in made
    assert f"secrets:  passphrase, a new random one in {project}/.pulumi-state/passphrase" in made

    requirements = (project / "requirements.txt").read_text(encoding="utf-8")
    assert f"kore-resources[sandbox] @ {checkout.as_uri()}\n" in requirements
    assert f"kore-sandbox @ {(checkout / 'kore-sandbox').as_uri()}\n" in requirements
    assert (project / ".pulumi-state" / "passphrase").stat().st_mode & 0o077 == 0
    assert ".pulumi-state/" in (project / ".gitignore").read_text(encoding="utf-8")
    where = run(
        project / "venv" / "bin" / "python",
        "-c",
        "import kore_resources, kore_sandbox; print(kore_resources.__file__, kore_sandbox.__file__)",
        cwd=tmp_path,
    ).stdout.split()
    assert all(path.startswith(str(project / "venv")) for path in where), where  # installed, not the source
    stack = (project / "Pulumi.dev.yaml").read_text(encoding="utf-8")
    assert f"kore:host: http://127.0.0.1:{port}" in stack and "sandbox-demo-secret" not in stack  # encrypted

    def pulumi(*args: str) -> str:
        """`pulumi ARGS` in the project, in a shell that sourced pulumi-env.sh (as the next commands say)."""
        command = '. ./pulumi-env.sh && exec pulumi "$@" --non-interactive'
        return run("bash", "-c", command, "pulumi", *args, cwd=project, env=env).stdout

    sandbox = KoreSandbox(project / "venv", project, port, "--state-file", ".pulumi-state/sandbox-state.json")
    try:
        assert "+ 2 to create" in pulumi("preview")
        pulumi("up", "--yes")
        outputs = json.loads(pulumi("stack", "output", "--json"))
        assert set(outputs["trainingIds"]) == {"en"} and outputs["trainingIds"]["en"]
        pulumi("up", "--yes", "--expect-no-changes")
    finally:
        sandbox.stop()
    assert (project / ".pulumi-state" / "sandbox-state.json").is_file()
