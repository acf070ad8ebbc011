"""Working directories owned by a lock: a killed owner's are removed at once, a live owner's never."""
import os
import signal
import subprocess
import sys
import time

from bentoml.repository.workdirs import OWNER_FILE, UNOWNED_MAX_AGE, owned_workdir, remove_abandoned

# Makes an owned working directory under argv[1], says where, then is killed while holding it.
KILLED_OWNER = """
import os, signal, sys
from bentoml.repository.workdirs import owned_workdir
with owned_workdir(sys.argv[1], "save-") as path:
    print(path, flush=True)
    os.kill(os.getpid(), signal.SIGKILL)
"""


def _killed_owners_dir(parent):
    proc = subprocess.run([sys.executable, "-c", KILLED_OWNER, str(parent)], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    path = proc.stdout.strip()
    assert os.path.isfile(os.path.join(path, OWNER_FILE))
    return path


def _age(path, seconds):
    then = time.time() - seconds
    os.utime(path, (then, then))


def test_a_killed_owners_directory_goes_and_a_live_ones_stays(tmp_path):
    killed = _killed_owners_dir(tmp_path)
    with owned_workdir(str(tmp_path), "save-") as live:
        _age(live, 2 * UNOWNED_MAX_AGE)  # age decides nothing while an owner holds its lock
        open(os.path.join(live, "work"), "w").close()
        remove_abandoned(str(tmp_path))
        assert not os.path.exists(killed)
        assert os.path.isfile(os.path.join(live, "work"))
    assert not os.path.exists(live)  # the owner removes its own when done
    assert os.listdir(tmp_path) == []


def test_directories_without_an_owner_file_go_by_age(tmp_path):
    old, young = tmp_path / "save-old", tmp_path / "save-young"
    for d in (old, young):
        (d / "bundle").mkdir(parents=True)
    _age(old, 2 * UNOWNED_MAX_AGE)
    remove_abandoned(str(tmp_path))
    assert not old.exists() and young.exists()


def test_only_the_pattern_is_looked_at(tmp_path):
    killed = _killed_owners_dir(tmp_path)
    remove_abandoned(str(tmp_path), "download-*")
    assert os.path.exists(killed)
    remove_abandoned(str(tmp_path), "save-*")
    assert not os.path.exists(killed)


def test_a_missing_parent_is_nothing_to_remove(tmp_path):
    remove_abandoned(str(tmp_path / "missing"))
    assert not (tmp_path / "missing").exists()
