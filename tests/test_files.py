"""chainrule._files: every file chainrule writes is replaced whole or not at all.

``atomic_write`` writes to a temporary file beside the target and renames it over the target only
once it is complete, so an exception (or a full disk, or SIGKILL: see test_serialization.py)
leaves the previous file as it was.  The new file gets the permissions a plain ``open()`` would
give it; a symlink is written through, as ``open()`` does.
"""
import os
import stat

import pytest

from chainrule._files import atomic_write, check_writable_folder


def _mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def umask_027():
    old = os.umask(0o027)
    try:
        yield 0o027
    finally:
        os.umask(old)


def test_writes_text_and_bytes(tmp_path):
    with atomic_write(tmp_path / "a.txt", "w", encoding="utf-8") as f:
        f.write("héllo\n")
    assert (tmp_path / "a.txt").read_text(encoding="utf-8") == "héllo\n"
    with atomic_write(str(tmp_path / "b.bin")) as f:
        f.write(b"\x00\x01")
    assert (tmp_path / "b.bin").read_bytes() == b"\x00\x01"
    assert sorted(os.listdir(tmp_path)) == ["a.txt", "b.bin"]
    with pytest.raises(ValueError, match="mode must be 'w' or 'wb'"):
        with atomic_write(tmp_path / "c", "a"):
            pass


@pytest.mark.parametrize("error", [ValueError("boom"), KeyboardInterrupt()],
                         ids=["exception", "ctrl-c"])
def test_an_interrupted_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path, error):
    path = tmp_path / "f.txt"
    path.write_text("old contents")
    with pytest.raises(type(error)):
        with atomic_write(path, "w") as f:
            f.write("new contents, half written")
            raise error
    assert path.read_text() == "old contents"
    assert os.listdir(tmp_path) == ["f.txt"]


def test_a_new_file_gets_the_mode_open_would_give(tmp_path, umask_027):
    with atomic_write(tmp_path / "new.txt", "w") as f:
        f.write("x")
    with open(tmp_path / "plain.txt", "w") as f:
        f.write("x")
    assert _mode(tmp_path / "new.txt") == _mode(tmp_path / "plain.txt") == 0o640


@pytest.mark.parametrize("mode", [0o600, 0o644, 0o755])
def test_a_replaced_file_keeps_its_mode(tmp_path, umask_027, mode):
    path = tmp_path / "old.txt"
    path.write_text("old")
    os.chmod(path, mode)
    with atomic_write(path, "w") as f:
        f.write("new")
    assert path.read_text() == "new" and _mode(path) == mode


def test_a_symlink_is_written_through_like_open(tmp_path):
    target = tmp_path / "real.txt"
    target.write_text("old")
    link = tmp_path / "link.txt"
    link.symlink_to(target)
    with atomic_write(link, "w") as f:
        f.write("new")
    assert link.is_symlink() and target.read_text() == "new"
    assert sorted(os.listdir(tmp_path)) == ["link.txt", "real.txt"]


def test_errors_name_the_path_not_the_temporary(tmp_path):
    missing = tmp_path / "no" / "such" / "folder" / "f.txt"
    with pytest.raises(FileNotFoundError) as info:
        with atomic_write(missing, "w"):
            pass
    assert info.value.filename == str(missing) and ".tmp" not in str(info.value)
    (tmp_path / "d").mkdir()
    with pytest.raises(IsADirectoryError) as info:
        with atomic_write(tmp_path / "d", "w") as f:
            f.write("x")
    assert info.value.filename == str(tmp_path / "d") and ".tmp" not in str(info.value)
    assert os.listdir(tmp_path / "d") == []


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0,
                    reason="needs POSIX permissions that apply (not root)")
def test_check_writable_folder(tmp_path):
    made = check_writable_folder(tmp_path / "new" / "sub", "the drawings")
    assert os.path.isdir(made) and os.listdir(made) == []
    locked = tmp_path / "locked"
    locked.mkdir()
    os.chmod(locked, 0o500)
    try:
        with pytest.raises(OSError, match=r"can't write the drawings to .*locked"):
            check_writable_folder(locked, "the drawings")
    finally:
        os.chmod(locked, 0o700)


def test_check_writable_folder_refuses_a_file(tmp_path):
    (tmp_path / "f").write_text("")
    with pytest.raises(OSError, match=r"can't write the plot to .*f'.*a file, not a folder"):
        check_writable_folder(tmp_path / "f", "the plot")


# --- every writer goes through atomic_write ---------------------------------------------------

def _write_checkpoint(path):
    import chainrule as cr
    cr.save({"w": cr.ones(3)}, path)


def _write_safetensors(path):
    import chainrule as cr
    cr.save_safetensors({"w": cr.ones(3)}, path)


def _write_drawing(path):
    from chainrule.viz import Drawing
    Drawing("digraph chainrule { a -> b }").save(path)


def _write_plot(path):
    pytest.importorskip("matplotlib")
    from chainrule.utils.training import plot_history
    plot_history({"train loss": [3.0, 2.0, 1.5]}, path)


def _write_bench_results(path):
    import sys
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    if root not in sys.path:                      # bench/ lives at the repository root
        sys.path.insert(0, root)
    from bench.__main__ import write_results
    write_results(os.path.dirname(path), "# results\n", {"results": []})


@pytest.mark.parametrize("write, name", [
    (_write_checkpoint, "model.pt"), (_write_safetensors, "model.safetensors"),
    (_write_drawing, "graph.dot"), (_write_plot, "curves.png"),
    (_write_bench_results, "latest.md"),
], ids=["save", "save_safetensors", "Drawing.save", "plot_history", "bench-results"])
def test_every_writer_keeps_the_old_file_when_the_disk_fills(tmp_path, monkeypatch, write, name):
    path = tmp_path / name
    write(path)                                   # a first, good file
    old = {p: p.read_bytes() for p in tmp_path.iterdir()}

    def disk_full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)   # the data is written; making it durable fails
    with pytest.raises(OSError, match="No space left"):
        write(path)
    assert {p: p.read_bytes() for p in tmp_path.iterdir()} == old   # nothing else left either
