"""`make install` puts the tool where the system's valgrind looks for tools."""
import filecmp
import subprocess
from pathlib import Path

from conftest import ROOT


def test_make_install_layout(tmp_path):
    dest = tmp_path / "root"
    subprocess.run(["make", "-s", "install", f"DESTDIR={dest}"], cwd=ROOT, check=True,
                   capture_output=True)
    tooldir = subprocess.run(["sed", "-n", "s/^VG_TOOLDIR = //p", str(ROOT / "Makefile")],
                             capture_output=True, text=True, check=True).stdout.strip()
    assert tooldir, "configure found no tool directory"
    installed = dest / tooldir.lstrip("/")
    tool = installed / "stackheap-amd64-linux"
    assert filecmp.cmp(tool, ROOT / "stackheap-amd64-linux", shallow=False)
    assert (installed / "vgpreload_stackheap-amd64-linux.so").is_file()
    # the launcher finds tools next to memcheck's
    assert (Path(tooldir) / "memcheck-amd64-linux").exists()
    headers = list(dest.rglob("stackheap.h"))
    assert len(headers) == 1 and headers[0].parent.name == "valgrind"
    assert list(dest.rglob("sh_annotate"))
