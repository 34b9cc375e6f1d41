"""The install step with the dependency cache: restore, or install and store."""

import shutil
import threading
import time
from pathlib import Path

from app.cache import CacheKey, ModulesCache, RemoteTier, cache_key
from app.pipeline.commands import run_step_command


def install(build, plan) -> bool:
    """Install dependencies; return True when node_modules came from the cache."""
    if not build.config["MODULES_CACHE"]:
        run_step_command(build, plan, plan.install_command, "install")
        return False
    if not plan.lock_file:
        build.log.system(
            "Cache: no lock file, so node_modules is not cached (the package "
            "manager's download cache is kept all the same)."
        )
        run_step_command(build, plan, plan.install_command, "install")
        return False
    cache, key = _cache(build), _key(build, plan)
    if _restore(build, plan, cache, key):
        return True
    reason = cache.miss_reason(build.project.id, key)
    build.log.system(f"Cache miss {key.short} — {reason}")
    run_step_command(build, plan, plan.install_command, "install")
    _store(build, plan, cache, key)
    cache.record(build.project.id, key, "miss", reason)
    build.cache_outcome = "miss"
    return False


def reinstall_without_cache(build, plan) -> None:
    """After a build failed on restored modules: install from scratch once."""
    build.log.system("The build failed after a cache hit: retrying once without the cache.")
    shutil.rmtree(plan.root / "node_modules", ignore_errors=True)
    run_step_command(build, plan, plan.install_command, "install")


def _cache(build) -> ModulesCache:
    return ModulesCache(Path(build.config["CACHE_DIR"]))  # not modules_cache(): a worker thread


def _key(build, plan) -> CacheKey:
    return cache_key(
        runner=build.runner.identity,
        node_version=plan.node_version,
        package_manager=plan.package_manager,
        package_manager_major=build.runner.package_manager_major(plan.package_manager),
        lock_file=plan.root / plan.lock_file,
        root_dir=build.project.root_dir,
    )


def _restore(build, plan, cache: ModulesCache, key: CacheKey) -> bool:
    target = plan.root / "node_modules"
    restored = cache.restore(key, target)
    if restored is None and _remote(build) and _remote(build).download(key, cache):
        build.log.system(f"Cache: fetched {key.short} from the shared tier.")
        restored = cache.restore(key, target)
    if restored is None:
        return False
    build.runner.adopt_tree(target)
    build.log.system(
        f"Cache hit {key.short} — restored {restored.files} files "
        f"({restored.bytes / 1024**2:.1f} MB) in {restored.seconds:.2f} s"
    )
    build.log.system(f"Skipping `{plan.install_command}`: node_modules matches the lock file.")
    cache.record(build.project.id, key, "hit", "")
    build.cache_outcome = "hit"
    return True


def _store(build, plan, cache: ModulesCache, key: CacheKey) -> None:
    node_modules = plan.root / "node_modules"
    if not node_modules.is_dir():
        return
    started = time.monotonic()
    entry = cache.store(key, node_modules, build.project.id)
    if entry is None:
        return
    cache.restore(key, node_modules)  # the build goes on with linked files
    build.runner.adopt_tree(node_modules)
    build.log.system(f"Cached node_modules as {key.short} in {time.monotonic() - started:.2f} s")
    remote = _remote(build)
    if remote:  # off the build's path: a new worker elsewhere starts warm
        threading.Thread(target=remote.upload, args=(entry, key), daemon=True).start()
    cache.evict(build.config["CACHE_MAX_BYTES"], build.config["CACHE_MAX_AGE_DAYS"] * 86400)


def _remote(build) -> RemoteTier | None:
    folder = build.config["CACHE_REMOTE_DIR"]
    return RemoteTier(Path(folder)) if folder else None
