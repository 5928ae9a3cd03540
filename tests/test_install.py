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


def test_installed_sh_annotate_finds_its_viewer_modules(tmp_path):
    """sh_annotate loads sh_html.py/sh_sarif.py from the installed data directory."""
    dest = tmp_path / "root"
    subprocess.run(["make", "-s", "install", f"DESTDIR={dest}"], cwd=ROOT, check=True,
                   capture_output=True)
    [script] = list(dest.rglob("bin/sh_annotate"))
    text = script.read_text()
    [line] = [ln for ln in text.splitlines() if ln.startswith("MODULE_DIR = ")]
    module_dir = line.split("=", 1)[1].strip().strip('"')
    assert module_dir.startswith("/") and module_dir.endswith("/stackheap")
    staged = dest / module_dir.lstrip("/")
    assert (staged / "sh_html.py").is_file() and (staged / "sh_sarif.py").is_file()
    # Run the installed copy away from the source tree, with MODULE_DIR pointed at the
    # staged directory (DESTDIR is only a staging prefix).
    copy = tmp_path / "bin" / "sh_annotate"
    copy.parent.mkdir()
    copy.write_text(text.replace(line, f'MODULE_DIR = "{staged}"'))
    report = ROOT / "tests" / "data" / "run_a.json"
    p = subprocess.run(["/usr/bin/python3", str(copy), "--sarif", str(report)],
                       capture_output=True, text=True, cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert '"version": "2.1.0"' in p.stdout
    p = subprocess.run(["/usr/bin/python3", str(copy), "--html", str(tmp_path / "r.html"),
                        str(report)], capture_output=True, text=True, cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert (tmp_path / "r.html").read_text().startswith("<!DOCTYPE html>")
    # without the modules it says what is missing, in one line
    copy.write_text(text.replace(line, f'MODULE_DIR = "{tmp_path / "nowhere"}"'))
    p = subprocess.run(["/usr/bin/python3", str(copy), "--sarif", str(report)],
                       capture_output=True, text=True, cwd=tmp_path)
    assert p.returncode == 2 and "cannot load the sh_sarif module" in p.stderr
