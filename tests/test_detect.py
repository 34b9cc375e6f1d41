"""Detection: package manager, Node version, commands and output directory."""

import json
from types import SimpleNamespace

import pytest

from app.pipeline.detect import detect, find_output, normalise_node_version
from app.pipeline.errors import StepFailed


def project(**overrides):
    fields = dict(
        root_dir=None, install_command=None, build_command=None, output_dir=None, node_version=None
    )
    return SimpleNamespace(**{**fields, **overrides})


def checkout(tmp_path, files: dict[str, str]):
    for name, content in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(content)
    return tmp_path


PACKAGE = json.dumps({"name": "x", "scripts": {"build": "vite build"}})


@pytest.mark.parametrize(
    ("lock_file", "manager", "install"),
    [
        ("package-lock.json", "npm", "npm ci"),
        ("yarn.lock", "yarn", "yarn install --frozen-lockfile"),
        ("pnpm-lock.yaml", "pnpm", "pnpm install --frozen-lockfile"),
    ],
)
def test_the_lock_file_decides_the_package_manager(tmp_path, lock_file, manager, install):
    plan = detect(checkout(tmp_path, {"package.json": PACKAGE, lock_file: ""}), project())
    assert (plan.package_manager, plan.install_command) == (manager, install)
    assert plan.build_command == f"{manager} run build"
    assert plan.lock_file == lock_file


def test_no_lock_file_means_npm_install(tmp_path):
    plan = detect(checkout(tmp_path, {"package.json": PACKAGE}), project())
    assert (plan.package_manager, plan.install_command, plan.lock_file) == (
        "npm",
        "npm install",
        None,
    )


def test_no_build_script_means_no_build_command(tmp_path):
    plan = detect(checkout(tmp_path, {"package.json": "{}"}), project())
    assert plan.build_command is None


@pytest.mark.parametrize(
    ("files", "version", "source"),
    [
        ({".nvmrc": "v18.19.0\n"}, "18", ".nvmrc"),
        ({".node-version": "22"}, "22", ".node-version"),
        (
            {"package.json": json.dumps({"engines": {"node": ">=20.1"}})},
            "20",
            "package.json engines.node",
        ),
    ],
)
def test_node_version_comes_from_the_usual_files(tmp_path, files, version, source):
    plan = detect(checkout(tmp_path, {"package.json": "{}", **files}), project())
    assert (plan.node_version, plan.node_version_source) == (version, source)


def test_project_settings_override_detection(tmp_path):
    root = checkout(
        tmp_path, {"web/package.json": PACKAGE, "web/yarn.lock": "", "web/.nvmrc": "18"}
    )
    plan = detect(
        root,
        project(
            root_dir="web",
            install_command="make deps",
            build_command="make site",
            output_dir="site",
            node_version="20",
        ),
    )
    assert plan.root == (tmp_path / "web").resolve()
    assert (plan.install_command, plan.build_command, plan.output_dir) == (
        "make deps",
        "make site",
        "site",
    )
    assert (plan.node_version, plan.node_version_source) == ("20", "project setting")


def test_describe_prints_every_detected_value(tmp_path):
    plan = detect(checkout(tmp_path, {"package.json": PACKAGE, "yarn.lock": ""}), project())
    text = "\n".join(plan.describe())
    for expected in (
        "Package manager: yarn (from yarn.lock)",
        "Node version: any",
        "Install command: yarn install --frozen-lockfile",
        "Build command: yarn run build",
        "Output directory: first of dist",
    ):
        assert expected in text


@pytest.mark.parametrize(
    ("files", "root_dir", "code", "words"),
    [
        ({"README.md": "hi"}, None, "no_package_json", "No package.json in the repository root"),
        ({"package.json": "{oops"}, None, "bad_package_json", "not valid JSON"),
        ({"package.json": "[]"}, None, "bad_package_json", "not a JSON object"),
        ({"package.json": "{}"}, "../elsewhere", "bad_root_dir", "leaves the repository"),
        ({"package.json": "{}"}, "missing", "bad_root_dir", "does not exist"),
    ],
)
def test_bad_checkouts_fail_with_a_reason(tmp_path, files, root_dir, code, words):
    with pytest.raises(StepFailed) as failure:
        detect(checkout(tmp_path, files), project(root_dir=root_dir))
    assert failure.value.code == code
    assert words in failure.value.message


def test_output_is_the_first_candidate_the_build_produced(tmp_path):
    root = checkout(
        tmp_path, {"package.json": "{}", "public/favicon.ico": "", "build/index.html": ""}
    )
    plan = detect(root, project())
    assert find_output(root, plan) == (tmp_path / "build").resolve()


def test_missing_output_lists_what_exists(tmp_path):
    root = checkout(
        tmp_path, {"package.json": "{}", "site/index.html": "", "node_modules/x/index.js": ""}
    )
    with pytest.raises(StepFailed) as failure:
        find_output(root, detect(root, project(output_dir="dist")))
    assert failure.value.code == "output_missing"
    assert "'dist' not found" in failure.value.message
    assert "the build produced: site/." in failure.value.message


def test_an_output_directory_that_is_a_symlink_is_not_taken(tmp_path):
    root = checkout(tmp_path, {"package.json": "{}"})
    (root / "dist").symlink_to("/etc")
    with pytest.raises(StepFailed):
        find_output(root, detect(root, project()))


@pytest.mark.parametrize(
    ("spec", "major"),
    [
        ("20", "20"),
        ("v20.11.1", "20"),
        (">=18 <21", "18"),
        ("^22.1", "22"),
        ("lts/*", None),
    ],
)
def test_node_versions_are_reduced_to_a_major(spec, major):
    assert normalise_node_version(spec) == major
