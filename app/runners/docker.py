"""The Docker runner: each step in a fresh, hardened, labelled container.

The checkout is mounted at /app and the package-manager caches at the build
user's HOME; everything else is the image's read-only root file system. A
container is removed as soon as its step ends, however it ends; one left by a
consumer that died is found by its labels and removed by the reaper.
"""

import contextlib
import os
import threading
import time
from pathlib import Path

import docker
from docker.errors import DockerException, ImageNotFound, NotFound

from app.images import PACKAGE_MANAGERS, SUPPORTED_NODE_VERSIONS, image_for
from app.pipeline.errors import StepFailed
from app.runners.base import LineCallback, RunResult, Workspace

DEFAULT_NODE_VERSION = "20"
CONTAINER_APP = "/app"
CONTAINER_HOME = "/home/node"
LABEL_INSTANCE = "org.slipway.instance"
LABEL_DEPLOYMENT = "org.slipway.deployment"
LABEL_WORKER = "org.slipway.worker"
LABEL_STEP = "org.slipway.step"
STOP_TIMEOUT = 3  # seconds a stopped container gets before SIGKILL
PID_EXHAUSTED = ("Resource temporarily unavailable", "can't fork", "Cannot fork")


def docker_client():
    return docker.from_env(timeout=30)


class DockerRunner:
    name = "docker"

    def __init__(self, config, workspace: Workspace):
        self.config = config
        self.workspace = workspace
        try:
            self.client = docker_client()
        except DockerException as exc:
            raise StepFailed(
                "docker_unavailable",
                "The Docker daemon does not answer "
                f"({exc.__class__.__name__}); check that Docker runs on the "
                "worker.",
            ) from None
        self.node_version = workspace.node_version or DEFAULT_NODE_VERSION
        if self.node_version not in SUPPORTED_NODE_VERSIONS:
            raise StepFailed(
                "unsupported_node",
                f"Node.js {self.node_version} is not "
                f"supported; use one of {', '.join(SUPPORTED_NODE_VERSIONS)} "
                "(project setting, .nvmrc, .node-version or engines.node).",
            )
        self.image = image_for(config["NODE_IMAGE"], self.node_version)
        _hand_over(workspace, config["BUILD_USER"])

    @property
    def identity(self) -> str:
        """What the cache key needs to know: the image, down to its id."""
        self.ensure_image()
        return f"docker:{self.image}@{self.client.images.get(self.image).id[:19]}"

    def package_manager_major(self, manager: str) -> str:
        version = PACKAGE_MANAGERS.get(self.node_version, {}).get(manager, "image")
        return version.split(".")[0]

    def adopt_tree(self, path: Path) -> None:
        """Give the directories (not the shared files) of a restored tree to the build user."""
        uid, _, gid = self.config["BUILD_USER"].partition(":")
        for folder, _dirs, _files in os.walk(path):
            os.chown(folder, int(uid), int(gid or uid))

    def describe(self) -> list[str]:
        c = self.config
        return [
            f"Runner: docker, image {self.image} (Node.js {self.node_version})",
            f"Limits: memory {c['BUILD_MEMORY']} (no swap), {c['BUILD_CPUS']} CPUs, "
            f"{c['BUILD_PIDS_LIMIT']} processes, user {c['BUILD_USER']}, no capabilities, "
            "no new privileges, read-only root, tmpfs /tmp",
        ]

    def ensure_image(self) -> None:
        """Have the image locally, pulling it once; fail saying how to build it offline."""
        try:
            self.client.images.get(self.image)
            return
        except ImageNotFound:
            pass
        try:
            self.client.images.pull(self.image)
        except DockerException as exc:
            raise StepFailed(
                "image_missing",
                f"Docker image {self.image} is not on this "
                f"machine and could not be pulled ({exc.__class__.__name__}). "
                "Without a registry, build it with `flask --app wsgi images build "
                f"--node {self.node_version}` and set NODE_IMAGE to the tag it "
                "prints, with {version} in place of the version.",
            ) from None

    def run(
        self,
        command: str,
        *,
        cwd: Path,
        env: dict[str, str],
        timeout: float,
        on_line: LineCallback,
        cancel: threading.Event,
        network: bool = True,
        step: str = "build",
    ) -> RunResult:
        self.ensure_image()
        container = self._create(command, cwd, env, network, step)
        try:
            # Attach before starting: the stream then carries every byte and ends
            # when the container does (attaching later with logs=True may hang).
            pump = _start_pump(self.client, container.id, on_line)
            container.start()
            outcome = _wait(container, timeout, cancel)
            pump.join(timeout=STOP_TIMEOUT)
            return self._result(container, *outcome, pump.saw_pid_errors)
        finally:
            _remove(container)

    def _create(self, command: str, cwd: Path, env: dict[str, str], network: bool, step: str):
        c = self.config
        workdir = Path(CONTAINER_APP) / cwd.relative_to(self.workspace.checkout)
        memory = c["BUILD_MEMORY"]
        return self.client.containers.create(
            self.image,
            ["sh", "-c", command],
            working_dir=str(workdir),
            environment={**env, "HOME": CONTAINER_HOME, "PATH": "/usr/local/bin:/usr/bin:/bin"},
            user=c["BUILD_USER"],
            labels=self._labels(step),
            mounts=[
                docker.types.Mount(CONTAINER_APP, str(self.workspace.checkout), type="bind"),
                docker.types.Mount(CONTAINER_HOME, str(self.workspace.cache), type="bind"),
            ],
            network_mode="bridge" if network else "none",
            cap_drop=["ALL"],
            security_opt=["no-new-privileges:true"],
            privileged=False,
            read_only=True,
            tmpfs={"/tmp": f"rw,nosuid,nodev,size={c['BUILD_TMPFS']}"},
            mem_limit=memory,
            memswap_limit=memory,
            nano_cpus=int(float(c["BUILD_CPUS"]) * 1e9),
            pids_limit=int(c["BUILD_PIDS_LIMIT"]),
            init=True,
            stop_signal="SIGTERM",
            detach=True,
        )

    def _labels(self, step: str) -> dict[str, str]:
        return {
            LABEL_INSTANCE: self.workspace.instance_id,
            LABEL_DEPLOYMENT: str(self.workspace.deployment_id),
            LABEL_WORKER: self.workspace.worker_id,
            LABEL_STEP: step,
        }

    def _result(self, container, exit_code, timed_out, cancelled, pid_errors) -> RunResult:
        container.reload()
        state = container.attrs["State"]
        return RunResult(
            exit_code=exit_code,
            timed_out=timed_out,
            cancelled=cancelled,
            out_of_memory=bool(state.get("OOMKilled")),
            out_of_pids=pid_errors and exit_code not in (0, None),
        )


def _hand_over(workspace: Workspace, user: str) -> None:
    """Give the checkout and cache to the build user, who is not root."""
    uid, _, gid = user.partition(":")
    uid, gid = int(uid), int(gid or uid)
    workspace.cache.mkdir(parents=True, exist_ok=True)
    os.chown(workspace.cache, uid, gid)
    for folder, dirs, files in os.walk(workspace.checkout):
        os.chown(folder, uid, gid)
        for name in dirs + files:
            os.lchown(os.path.join(folder, name), uid, gid)


def _wait(container, timeout: float, cancel: threading.Event):
    """Return (exit code, timed out, cancelled) once the container ends or is stopped."""
    done: dict = {}
    waiter = threading.Thread(target=lambda: done.update(container.wait()), daemon=True)
    waiter.start()
    deadline = time.monotonic() + timeout
    while waiter.is_alive():
        if cancel.wait(0.1):
            _kill(container)
            return None, False, True
        if time.monotonic() >= deadline:
            _kill(container)
            return None, True, False
    return done.get("StatusCode"), False, False


def _kill(container) -> None:
    with contextlib.suppress(DockerException):  # it may have ended on its own meanwhile
        container.kill()


def _remove(container) -> None:
    with contextlib.suppress(NotFound):
        container.remove(force=True, v=True)


class _Pump(threading.Thread):
    """Read the container's output, split it into lines per stream."""

    def __init__(self, client, container_id: str, on_line: LineCallback):
        super().__init__(daemon=True, name="docker-pump")
        self.stream = client.api.attach(
            container_id, stdout=True, stderr=True, stream=True, logs=False, demux=True
        )
        self.on_line = on_line
        self.saw_pid_errors = False
        self._partial = {"stdout": b"", "stderr": b""}

    def run(self) -> None:
        try:
            for out, err in self.stream:
                self._feed("stdout", out)
                self._feed("stderr", err)
        except DockerException:
            pass  # the container was removed under us: its output ends here
        for name, rest in self._partial.items():
            if rest:
                self._emit(name, rest)

    def _feed(self, name: str, chunk: bytes | None) -> None:
        if not chunk:
            return
        *lines, self._partial[name] = (self._partial[name] + chunk).split(b"\n")
        for line in lines:
            self._emit(name, line)

    def _emit(self, name: str, raw: bytes) -> None:
        text = raw.decode("utf-8", errors="replace")
        if any(marker in text for marker in PID_EXHAUSTED):
            self.saw_pid_errors = True
        self.on_line(name, text)


def _start_pump(client, container_id: str, on_line: LineCallback) -> _Pump:
    pump = _Pump(client, container_id, on_line)
    pump.start()
    return pump


def slipway_containers(instance_id: str, **labels: str) -> list:
    """The build containers of one Slipway installation, narrowed by more labels."""
    wanted = {LABEL_INSTANCE: instance_id, **labels}
    filters = {"label": [LABEL_DEPLOYMENT] + [f"{k}={v}" for k, v in wanted.items()]}
    return docker_client().containers.list(all=True, filters=filters)


def remove_containers(instance_id: str, **labels: str) -> int:
    """Remove this installation's build containers carrying these labels; return how many."""
    containers = slipway_containers(instance_id, **labels)
    for container in containers:
        _remove(container)
    return len(containers)
