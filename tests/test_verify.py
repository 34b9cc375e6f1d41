"""Only regular files and directories are ever published."""

import os

import pytest

from app.pipeline.errors import StepFailed
from app.pipeline.verify import verify_output


def test_counts_files_and_bytes(tmp_path):
    (tmp_path / "dist" / "a").mkdir(parents=True)
    (tmp_path / "dist" / "index.html").write_text("12345")
    (tmp_path / "dist" / "a" / "b.css").write_text("123")
    assert verify_output(tmp_path / "dist") == (2, 8)


@pytest.mark.parametrize("kind", ["symlink", "hard link", "special file"])
def test_links_and_special_files_are_refused_by_name(tmp_path, kind):
    dist = tmp_path / "dist"
    dist.mkdir()
    (dist / "index.html").write_text("ok")
    if kind == "symlink":
        (dist / "passwd").symlink_to("/etc/passwd")
    elif kind == "hard link":
        os.link(dist / "index.html", dist / "passwd")
    else:
        os.mkfifo(dist / "passwd")
    with pytest.raises(StepFailed) as failure:
        verify_output(dist)
    assert failure.value.code == "unsafe_output"
    assert f"dist/passwd ({kind})" in failure.value.message


def test_an_empty_output_is_refused(tmp_path):
    (tmp_path / "dist" / "empty").mkdir(parents=True)
    with pytest.raises(StepFailed) as failure:
        verify_output(tmp_path / "dist")
    assert failure.value.code == "output_empty"
