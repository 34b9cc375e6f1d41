"""The dependency cache: cold, warm and changed-lock-file deploys of a Vite + React app.

    .venv/bin/python bench/cache.py [--rounds 3]

Starts a throwaway Slipway (BUILD_RUNNER=docker, image slipway-node:20) on
loopback. Each round empties every cache (node_modules entries and npm's
download cache), then deploys the app cold, again unchanged (warm), and once
more with one dependency added to the lock file (changed). Prints medians per
step and in total, the ratios, and whether the targets hold: a warm install
under 5% of the cold one and under 0.5 s, a warm deploy at least 50% faster
than cold, a changed-lock-file deploy faster than cold.
"""

import argparse
import json
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.conftest import GitRepo  # noqa: E402
from tests.sites import node_site  # noqa: E402
from tests.stack import Stack  # noqa: E402

STEPS = ("clone", "install", "build", "verify", "upload")
PACKAGE = {
    "name": "vite-react-bench",
    "private": True,
    "version": "1.0.0",
    "type": "module",
    "scripts": {"build": "vite build"},
    "dependencies": {"react": "18.3.1", "react-dom": "18.3.1"},
    # As create-vite's React + TypeScript template has them: 243 packages.
    "devDependencies": {
        "vite": "6.4.6",
        "@vitejs/plugin-react": "4.6.0",
        "eslint": "9.30.0",
        "@eslint/js": "9.30.0",
        "eslint-plugin-react-hooks": "5.2.0",
        "eslint-plugin-react-refresh": "0.4.20",
        "globals": "16.3.0",
        "@types/react": "18.3.23",
        "@types/react-dom": "18.3.7",
        "typescript": "5.8.3",
        "typescript-eslint": "8.35.1",
    },
}
SOURCES = {
    "index.html": '<!doctype html><div id="root"></div><script type="module" '
    'src="/src/main.jsx"></script>',
    "vite.config.js": "import { defineConfig } from 'vite';\n"
    "import react from '@vitejs/plugin-react';\n"
    "export default defineConfig({ plugins: [react()] });\n",
    "src/main.jsx": "import { createRoot } from 'react-dom/client';\n"
    "createRoot(document.getElementById('root')).render(<h1>Hello</h1>);\n",
}


def app_files(work: Path, extra: dict | None = None) -> dict[str, str]:
    package = json.loads(json.dumps(PACKAGE))
    package["dependencies"].update(extra or {})
    files = node_site("npm", work, package=package)
    files.pop("build.js")
    return {**files, **SOURCES}


def deploy(stack: Stack, project_id: int) -> dict[str, float]:
    done = stack.wait(stack.deploy(project_id)["deployment_id"], timeout=900)
    assert done["status"] == "deployed", stack.log_text(done["id"])
    timings = {step: done["step_durations"][step] for step in STEPS}
    timings["total"] = done["duration"]
    return timings


def empty_caches(stack: Stack) -> None:
    cache = stack.base / "data" / "cache"
    for folder in ("modules", "projects", "docker"):
        shutil.rmtree(cache / folder, ignore_errors=True)


def one_round(stack: Stack, base: Path, n: int) -> dict[str, dict[str, float]]:
    path = base / f"app{n}"
    path.mkdir()
    repo = GitRepo(path)
    repo.git("init", "--quiet", "-b", "main")
    repo.commit(app_files(base / f"lock{n}"), "Vite + React")
    project = stack.create_project(repo)
    empty_caches(stack)
    results = {"cold": deploy(stack, project["id"]), "warm": deploy(stack, project["id"])}
    repo.commit(app_files(base / f"lock{n}b", {"is-number": "7.0.0"}), "Add is-number")
    results["changed"] = deploy(stack, project["id"])
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    rounds = parser.parse_args().rounds
    base = Path(tempfile.mkdtemp(prefix="slipway-bench-cache-"))
    stack = Stack(
        base / "stack",
        runner="docker",
        NODE_IMAGE="slipway-node:{version}",
        INSTALL_TIMEOUT=900,
        BUILD_TIMEOUT=900,
    ).start()
    try:
        runs = [one_round(stack, base, n) for n in range(rounds)]
        files = count_files(stack)
    finally:
        stack.stop()
        shutil.rmtree(base, ignore_errors=True)
    report(runs, rounds, files)


def count_files(stack: Stack) -> int:
    entries = stack.base / "data" / "cache" / "modules"
    metas = [json.loads(p.read_text()) for p in entries.glob("*/slipway-cache.json")]
    return max((m["files"] for m in metas), default=0)


def report(runs: list[dict], rounds: int, files: int) -> None:
    med = {
        case: {k: statistics.median(r[case][k] for r in runs) for k in (*STEPS, "total")}
        for case in ("cold", "warm", "changed")
    }
    print(
        f"Vite + React (243 packages, {files} files in node_modules), {rounds} rounds, "
        "medians (seconds)\n"
    )
    print("| | " + " | ".join((*STEPS, "total")) + " |")
    print("| --- " * (len(STEPS) + 2) + "|")
    for case, values in med.items():
        print(f"| {case} | " + " | ".join(f"{values[k]:.2f}" for k in (*STEPS, "total")) + " |")
    cold, warm, changed = med["cold"], med["warm"], med["changed"]
    install_share = warm["install"] / cold["install"]
    print(
        f"\nwarm/cold: install {install_share:.1%}, total {warm['total'] / cold['total']:.2f}; "
        f"changed/cold total {changed['total'] / cold['total']:.2f}"
    )
    checks = {
        "warm install < 5% of cold": install_share < 0.05,
        "warm install < 0.5 s": warm["install"] < 0.5,
        "warm deploy >= 50% faster than cold": warm["total"] <= 0.5 * cold["total"],
        "changed deploy faster than cold": changed["total"] < cold["total"],
    }
    for name, ok in checks.items():
        print(f"{'met' if ok else 'MISSED'}: {name}")


if __name__ == "__main__":
    main()
