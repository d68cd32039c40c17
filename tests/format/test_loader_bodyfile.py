"""body_file at serve time: a link swapped in anywhere on the way is refused, and --watch notices."""

from __future__ import annotations

import os

import pytest
from twisted.internet.task import Clock

from mockorigin.format import model
from mockorigin.interpreter import bodies
from mockorigin.format.loader import load_paths
from mockorigin.serve.reload import Reloader
from mockorigin.interpreter.state import ServerState

GET = b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
BEHAVIOUR = "name: a\nmatch: {path: /a}\nscript: [{respond: {status: 200, body_file: sub/data.txt}}]\n"


@pytest.fixture
def folders(tmp_path):
    """A behaviours folder serving sub/data.txt, and an outside folder holding a secret."""
    folder = tmp_path / "top" / "behaviours"
    (folder / "sub").mkdir(parents=True)
    (folder / "sub" / "data.txt").write_text("inside")
    (folder / "a.yaml").write_text(BEHAVIOUR)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "data.txt").write_text("secret")
    return folder, outside


def swap_for_link(path, target) -> None:
    """What someone with write access to the folder does after the set was loaded."""
    os.rename(path, f"{path}.old")
    os.symlink(target, path)


def file_body(behaviours) -> model.FileBody:
    (behaviour,) = behaviours
    return behaviour.scripts[0][0].body


def test_a_folder_swapped_for_a_link_out_is_not_served(folders, harness):
    folder, outside = folders
    behaviours = load_paths([str(folder)])
    served = harness(behaviours)
    served.send(GET)
    assert served.take().endswith(b"\r\n\r\ninside")

    swap_for_link(folder / "sub", outside)
    refused = harness(behaviours)
    refused.send(GET)
    assert refused.take() == b""  # not a byte of the outside file, not even a head
    assert refused.transport.disconnecting
    refused.lose()
    (entry,) = refused.journal
    assert entry["problems"] == [f"script failed at 1:respond: {file_body(behaviours).path} has a symbolic link on its way (swapped in after load?)"]


@pytest.mark.parametrize("swapped", ["sub/data.txt", "sub", ".", ".."])
def test_file_pieces_follow_no_link_anywhere_on_the_way(folders, swapped):
    folder, outside = folders
    path = file_body(load_paths([str(folder)])).path
    assert b"".join(bodies.FilePieces(path)) == b"inside"
    for copy in (outside / "sub", outside / "behaviours" / "sub"):  # the same names, outside
        copy.mkdir(parents=True)
        (copy / "data.txt").write_text("secret")
    link, target = {
        "sub/data.txt": (folder / "sub" / "data.txt", outside / "data.txt"),
        "sub": (folder / "sub", outside),
        ".": (folder, outside),  # the behaviours folder itself
        "..": (folder.parent, outside),  # a folder above it
    }[swapped]
    swap_for_link(link, target)
    with pytest.raises(OSError, match="has a symbolic link on its way"):
        bodies.FilePieces(path)


def test_file_pieces_refuse_a_fifo_swapped_in_without_blocking(folders):
    folder, _ = folders
    path = file_body(load_paths([str(folder)])).path
    os.unlink(path)
    os.mkfifo(path)
    with pytest.raises(OSError, match="no longer a regular file"):
        bodies.FilePieces(path)


def test_file_pieces_stream_a_file_in_pieces(tmp_path):
    data = os.urandom(bodies.PIECE * 2 + 5)
    (tmp_path / "big.bin").write_bytes(data)
    pieces = bodies.FilePieces(os.path.realpath(tmp_path / "big.bin"))
    assert pieces.size == len(data)
    assert [len(p) for p in pieces] == [bodies.PIECE, bodies.PIECE, 5]


@pytest.mark.parametrize("swapped", ["sub", "sub/data.txt"])
def test_the_watcher_sees_a_body_file_or_its_folder_swapped_for_a_link(folders, swapped):
    folder, outside = folders
    loaded = load_paths([str(folder)])
    state = ServerState(loaded)
    reloader = Reloader([str(folder)], state, Clock())
    reloader.check()
    assert reloader.reloads == 0 and reloader.last_error is None  # nothing changed: nothing reloaded

    swap_for_link(folder / swapped, outside if swapped == "sub" else outside / "data.txt")
    reloader.check()
    assert reloader.reloads == 0 and state.behaviours == loaded
    (problem,) = reloader.last_error
    assert problem.endswith("a.yaml:3:45: 'sub/data.txt' is outside the behaviours folder " + str(folder))

    os.unlink(folder / swapped)
    os.rename(f"{folder / swapped}.old", folder / swapped)
    reloader.check()
    assert reloader.last_error is None and reloader.reloads == 1


def test_the_watcher_watches_the_body_files_of_the_set_it_loaded_last(folders):
    folder, outside = folders
    state = ServerState(load_paths([str(folder)]))
    reloader = Reloader([str(folder)], state, Clock())
    (folder / "other").mkdir()
    (folder / "other" / "data.txt").write_text("other")
    (folder / "a.yaml").write_text(BEHAVIOUR.replace("sub/", "other/"))
    reloader.check()
    assert reloader.reloads == 1 and reloader.last_error is None
    reloader.check()
    assert reloader.reloads == 1  # the new body file's snapshot is the baseline, not a change

    swap_for_link(folder / "other", outside)
    reloader.check()
    assert "'other/data.txt' is outside the behaviours folder" in reloader.last_error[0]
    swap_for_link(folder / "sub", outside)  # no longer served: not watched
    reloader.check()
    assert reloader.reloads == 1 and "'other/data.txt'" in reloader.last_error[0]
