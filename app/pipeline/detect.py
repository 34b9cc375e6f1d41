"""Work out how to build a checkout: package manager, Node version, commands, output."""

import json
import re
from dataclasses import dataclass
from pathlib import Path

from app.pipeline.errors import StepFailed

# Checked in this order; the first lock file found decides the package manager.
LOCK_FILES = [
    ("pnpm-lock.yaml", "pnpm", "pnpm install --frozen-lockfile"),
    ("yarn.lock", "yarn", "yarn install --frozen-lockfile"),
    ("package-lock.json", "npm", "npm ci"),
]
OUTPUT_CANDIDATES = ["dist", "build", "out", "public", "_site"]


@dataclass
class BuildPlan:
    root: Path
    package_manager: str
    lock_file: str | None
    install_command: str
    build_command: str | None
    node_version: str | None
    node_version_source: str
    output_dir: str | None  # None: the first candidate the build produced

    def describe(self) -> list[str]:
        return [
            f"Package manager: {self.package_manager}"
            + (f" (from {self.lock_file})" if self.lock_file else " (no lock file)"),
            f"Node version: {self.node_version or 'any'} ({self.node_version_source})",
            f"Install command: {self.install_command}",
            f"Build command: {self.build_command or '(none: package.json has no build script)'}",
            "Output directory: "
            + (self.output_dir or f"first of {', '.join(OUTPUT_CANDIDATES)} the build produces"),
        ]


def detect(checkout: Path, project) -> BuildPlan:
    """Read the checkout and the project's overrides into a build plan."""
    root = _resolve_root(checkout, project.root_dir)
    package = _read_package_json(root, project.root_dir)
    manager, lock_file, install = _package_manager(root)
    node_version, source = _node_version(root, package, project.node_version)
    build = project.build_command or _default_build(package, manager)
    return BuildPlan(
        root=root,
        package_manager=manager,
        lock_file=lock_file,
        install_command=project.install_command or install,
        build_command=build,
        node_version=node_version,
        node_version_source=source,
        output_dir=project.output_dir or None,
    )


def _resolve_root(checkout: Path, root_dir: str | None) -> Path:
    root = (checkout / (root_dir or "")).resolve()
    if not root.is_relative_to(checkout.resolve()):
        raise StepFailed("bad_root_dir", f"Root directory '{root_dir}' leaves the repository.")
    if not root.is_dir():
        raise StepFailed(
            "bad_root_dir",
            f"Root directory '{root_dir}' does not exist in the "
            "repository. Fix it in the project settings.",
        )
    return root


def _read_package_json(root: Path, root_dir: str | None) -> dict:
    path = root / "package.json"
    where = f"'{root_dir}'" if root_dir else "the repository root"
    if not path.is_file():
        raise StepFailed(
            "no_package_json",
            f"No package.json in {where}. Slipway builds "
            "Node.js projects; set the root directory if the app is in a subfolder.",
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        message = f"package.json in {where} is not valid JSON: {exc}"
        raise StepFailed("bad_package_json", message) from None
    if not isinstance(data, dict):
        raise StepFailed("bad_package_json", f"package.json in {where} is not a JSON object.")
    return data


def _package_manager(root: Path) -> tuple[str, str | None, str]:
    for lock_file, manager, install in LOCK_FILES:
        if (root / lock_file).is_file():
            return manager, lock_file, install
    return "npm", None, "npm install"


def _node_version(root: Path, package: dict, override: str | None) -> tuple[str | None, str]:
    if override:
        return normalise_node_version(override), "project setting"
    for name in (".nvmrc", ".node-version"):
        path = root / name
        if path.is_file():
            return normalise_node_version(path.read_text().strip()), name
    engines = package.get("engines")
    if isinstance(engines, dict) and isinstance(engines.get("node"), str):
        return normalise_node_version(engines["node"]), "package.json engines.node"
    return None, "not specified"


def normalise_node_version(spec: str) -> str | None:
    """Reduce '20', 'v20.11.1', '>=18', '^20.1' or 'lts/*' to a major version."""
    match = re.search(r"(\d+)", spec)
    return match.group(1) if match else None


def _default_build(package: dict, manager: str) -> str | None:
    scripts = package.get("scripts")
    if isinstance(scripts, dict) and "build" in scripts:
        return f"{manager} run build"
    return None


def find_output(root: Path, plan: BuildPlan) -> Path:
    """Return the output directory, or fail saying what the build did produce."""
    names = [plan.output_dir] if plan.output_dir else OUTPUT_CANDIDATES
    for name in names:
        path = (root / name).resolve()
        if path.is_relative_to(root.resolve()) and path.is_dir() and not (root / name).is_symlink():
            return path
    produced = sorted(
        p.name + "/"
        for p in root.iterdir()
        if p.is_dir() and not p.name.startswith(".") and p.name != "node_modules"
    )
    wanted = f"'{plan.output_dir}'" if plan.output_dir else "(any of " + ", ".join(names) + ")"
    raise StepFailed(
        "output_missing",
        f"Output directory {wanted} not found after the build. "
        "Set the output directory in the project settings; the build produced: "
        + (", ".join(produced) or "no directories")
        + ".",
    )
