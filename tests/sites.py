"""Sources of small real sites, with lock files made by the real package managers."""

import json
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOOLS_BIN = ROOT / "tools" / "node_modules" / ".bin"

BUILD_JS = """
const fs = require("fs");
const isNumber = require("is-number");
fs.mkdirSync("dist/about", { recursive: true });
fs.writeFileSync("dist/index.html",
  `<!doctype html><title>Hello</title><h1>Built with ${process.argv[2]}</h1>` +
  `<p>is-number says 5 is a number: ${isNumber(5)}</p><p>node ${process.version}</p>`);
fs.writeFileSync("dist/about/index.html", "<h1>About</h1>");
fs.writeFileSync("dist/404.html", "<h1>Custom not found</h1>");
fs.writeFileSync("dist/app.js", "console.log('hi')");
console.log("built " + process.argv[2]);
"""

LOCK_COMMANDS = {
    "npm": (
        ["npm", "install", "--package-lock-only", "--no-audit", "--no-fund"],
        "package-lock.json",
    ),
    "yarn": (
        [str(TOOLS_BIN / "yarn"), "install", "--ignore-scripts", "--no-progress"],
        "yarn.lock",
    ),
    "pnpm": ([str(TOOLS_BIN / "pnpm"), "install", "--lockfile-only"], "pnpm-lock.yaml"),
}


def node_site(manager: str, work: Path, package: dict | None = None) -> dict[str, str]:
    """Files of a site that needs is-number from the registry, locked by `manager`."""
    package = package or {
        "name": f"hello-{manager}",
        "version": "1.0.0",
        "private": True,
        "scripts": {"build": f"node build.js {manager}"},
        "dependencies": {"is-number": "7.0.0"},
    }
    files = {"package.json": json.dumps(package, indent=2), "build.js": BUILD_JS}
    work.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        (work / name).write_text(content)
    command, lock_file = LOCK_COMMANDS[manager]
    subprocess.run(command, cwd=work, check=True, capture_output=True, timeout=300, env=_env(work))
    files[lock_file] = (work / lock_file).read_text()
    shutil.rmtree(work)
    return files


def script_site(build: str, **extra: str) -> dict[str, str]:
    """Files of a site with no dependencies whose build runs `build`."""
    package = {"name": "scripted", "version": "1.0.0", "scripts": {"build": build}}
    return {"package.json": json.dumps(package), **extra}


def _env(work: Path) -> dict[str, str]:
    import os

    return {**os.environ, "HOME": str(work / ".home"), "PATH": f"{TOOLS_BIN}:{os.environ['PATH']}"}
