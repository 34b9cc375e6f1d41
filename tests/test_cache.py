"""The dependency cache store: keys, entries, hard-link restores, eviction, tiers."""

import os
import threading
import time

import pytest

from app.cache import META, ModulesCache, RemoteTier, cache_key


@pytest.fixture
def lock(tmp_path):
    path = tmp_path / "package-lock.json"
    path.write_text('{"lockfileVersion": 3}')
    return path


def key_for(lock, **changes):
    args = dict(
        runner="docker:img",
        node_version="20",
        package_manager="npm",
        package_manager_major="10",
        lock_file=lock,
        root_dir=None,
    )
    return cache_key(**{**args, **changes})


def modules(tmp_path, name="node_modules", files=3, size=100):
    folder = tmp_path / name
    (folder / "pkg" / "lib").mkdir(parents=True)
    for i in range(files):
        (folder / "pkg" / "lib" / f"f{i}.js").write_text("x" * size)
    return folder


def test_every_component_changes_the_key(lock, tmp_path):
    base = key_for(lock)
    other_lock = tmp_path / "other.json"
    other_lock.write_text('{"lockfileVersion": 3, "changed": 1}')
    variants = [
        key_for(lock, runner="local:node20"),
        key_for(lock, node_version="18"),
        key_for(lock, package_manager="pnpm"),
        key_for(lock, package_manager_major="9"),
        key_for(other_lock),
        key_for(lock, root_dir="web"),
    ]
    assert len({base.digest, *(v.digest for v in variants)}) == 7
    assert key_for(lock, root_dir="/web/").digest == key_for(lock, root_dir="web").digest


def test_misses_say_what_changed(lock, tmp_path):
    cache = ModulesCache(tmp_path / "cache")
    first = key_for(lock)
    assert cache.miss_reason(1, first) == "no entry"
    cache.record(1, first, "miss", "no entry")
    assert cache.miss_reason(1, key_for(lock, node_version="22")) == "Node.js version changed"
    lock.write_text('{"lockfileVersion": 3, "x": 1}')
    assert cache.miss_reason(1, key_for(lock)) == "lock file changed"
    assert cache.miss_reason(1, first) == "no entry (evicted or cleared)"


def test_a_restore_links_files_instead_of_copying_them(lock, tmp_path):
    cache = ModulesCache(tmp_path / "cache")
    key = key_for(lock)
    entry = cache.store(key, modules(tmp_path), project_id=1)
    restored = cache.restore(key, tmp_path / "checkout" / "node_modules")

    assert (restored.files, restored.bytes) == (3, 300)
    original = entry / "node_modules" / "pkg" / "lib" / "f0.js"
    copy = tmp_path / "checkout" / "node_modules" / "pkg" / "lib" / "f0.js"
    assert os.stat(original).st_ino == os.stat(copy).st_ino
    assert not os.access(copy, os.W_OK) or os.geteuid() == 0
    assert os.stat(copy).st_mode & 0o222 == 0
    assert not (tmp_path / "node_modules").exists()  # moved into the store, not copied


def test_half_written_entries_are_ignored_and_removed(lock, tmp_path):
    cache = ModulesCache(tmp_path / "cache")
    key = key_for(lock)
    broken = cache.entries / key.digest / "node_modules"
    broken.mkdir(parents=True)  # no metadata: a store that never finished
    assert cache.restore(key, tmp_path / "target") is None
    assert not (cache.entries / key.digest).exists()
    assert cache.store(key, modules(tmp_path), project_id=1) is not None
    assert cache.restore(key, tmp_path / "target") is not None


def test_concurrent_builds_share_one_entry(lock, tmp_path):
    cache = ModulesCache(tmp_path / "cache")
    key = key_for(lock)
    cache.store(key, modules(tmp_path, files=200), project_id=1)
    results = []

    def restore(n):
        results.append(cache.restore(key, tmp_path / f"build{n}" / "node_modules"))

    threads = [threading.Thread(target=restore, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(r is not None and r.files == 200 for r in results)
    assert cache.store(key, modules(tmp_path, "again"), project_id=2) is None  # immutable


def test_eviction_by_age_then_least_recently_used(lock, tmp_path):
    cache = ModulesCache(tmp_path / "cache")
    keys = [key_for(lock, node_version=v) for v in ("16", "18", "20", "22")]
    for n, key in enumerate(keys):
        cache.store(key, modules(tmp_path, f"m{n}", size=1000), project_id=1)
    now = time.time()
    ages = [30 * 86400, 3000, 2000, 1000]  # seconds since last use
    for key, age in zip(keys, ages, strict=True):
        os.utime(cache.entries / key.digest / META, (now - age, now - age))
    removed = cache.evict(max_bytes=2 * 3000, max_age_seconds=7 * 86400)
    assert removed == [keys[0].digest, keys[1].digest]
    assert cache.entry(keys[2]) and cache.entry(keys[3])


def test_clear_removes_only_what_the_project_used(lock, tmp_path):
    cache = ModulesCache(tmp_path / "cache")
    mine, theirs = key_for(lock), key_for(lock, node_version="18")
    cache.store(mine, modules(tmp_path, "a"), project_id=1)
    cache.store(theirs, modules(tmp_path, "b"), project_id=2)
    cache.record(1, mine, "miss", "no entry")
    assert cache.project_usage(1) == (1, 300)
    assert cache.clear_project(1) == (1, 300)
    assert cache.entry(mine) is None and cache.entry(theirs) is not None
    assert cache.last(1) is None


def test_an_empty_local_tier_starts_warm_from_the_shared_one(lock, tmp_path):
    remote = RemoteTier(tmp_path / "shared")
    first = ModulesCache(tmp_path / "worker-a")
    key = key_for(lock)
    remote.upload(first.store(key, modules(tmp_path), project_id=1), key)

    second = ModulesCache(tmp_path / "worker-b")
    assert second.restore(key, tmp_path / "b" / "node_modules") is None
    assert remote.download(key, second)
    restored = second.restore(key, tmp_path / "b" / "node_modules")
    assert restored.files == 3
    assert (tmp_path / "b" / "node_modules" / "pkg" / "lib" / "f2.js").read_text() == "x" * 100
