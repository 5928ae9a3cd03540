"""Building against Valgrind 3.19 .. 3.27: configure's feature tests
(stackheap/sh_probe_vgapi.sh) and its refusal of other versions.

The probe is run on copies of the installed tool headers edited into the
other release's form, so both malloc-replacement signatures are checked
whichever Valgrind the machine has."""
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import ROOT

PROBE = ROOT / "stackheap" / "sh_probe_vgapi.sh"
DEFS = "-DVGA_amd64=1 -DVGO_linux=1 -DVGP_amd64_linux=1 -DVGPV_amd64_linux_vanilla=1"


def makefile_var(name):
    m = re.search(rf"^{name} = (.*)$", (ROOT / "Makefile").read_text(), re.M)
    assert m, name
    return m.group(1).strip()


INCLUDEDIR = makefile_var("VG_INCLUDEDIR")
CORE = f"{makefile_var('VG_ARCHIVE_DIR')}/libcoregrind-amd64-linux.a"

# The three callbacks whose parameters changed in 3.22 (orig_align added).
SIGS = {
    3: {"p__builtin_new_aligned": "ThreadId tid, SizeT n, SizeT align",
        "p__builtin_vec_new_aligned": "ThreadId tid, SizeT n, SizeT align",
        "pmemalign": "ThreadId tid, SizeT align, SizeT n"},
    4: {"p__builtin_new_aligned": "ThreadId tid, SizeT n, SizeT align, SizeT orig_align",
        "p__builtin_vec_new_aligned": "ThreadId tid, SizeT n, SizeT align, SizeT orig_align",
        "pmemalign": "ThreadId tid, SizeT align, SizeT orig_align, SizeT n"},
    "bogus": {"p__builtin_new_aligned": "ThreadId tid, SizeT n",
              "p__builtin_vec_new_aligned": "ThreadId tid, SizeT n",
              "pmemalign": "ThreadId tid, SizeT n"},
}


def headers(tmp_path, form):
    """A copy of the tool headers with the malloc callbacks in `form`."""
    inc = tmp_path / "include"
    shutil.copytree(INCLUDEDIR, inc)
    h = inc / "pub_tool_tooliface.h"
    text = h.read_text()
    for member, params in SIGS[form].items():
        text, n = re.subn(rf"(\(\*{member}\)\s*)\([^)]*\)", rf"\1( {params} )", text)
        assert n == 1, member
    h.write_text(text)
    return inc


def probe(inc, core=CORE):
    return subprocess.run(["sh", str(PROBE), "gcc", f"-m64 -I{inc} {DEFS}", str(core), "nm"],
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("form,value", [(3, 0), (4, 1)])
def test_probe_finds_malloc_signature(tmp_path, form, value):
    p = probe(headers(tmp_path, form))
    assert p.returncode == 0, p.stderr
    assert f"#define SH_VG_ALIGNED_ORIG_ALIGN {value}\n" in p.stdout
    assert "#define SH_VG_HAVE_CLO_ERROR_EXITCODE 1\n" in p.stdout
    assert "#define SH_VG_HAVE_CLO_READ_INLINE_INFO 1\n" in p.stdout


def test_probe_refuses_unknown_malloc_signature(tmp_path):
    p = probe(headers(tmp_path, "bogus"))
    assert p.returncode != 0
    assert "neither known signature" in p.stderr


def test_probe_core_variables_come_from_the_core_library(tmp_path):
    empty = tmp_path / "libcoregrind-amd64-linux.a"
    subprocess.run(["ar", "rc", str(empty)], check=True)
    p = probe(INCLUDEDIR, core=empty)
    assert p.returncode == 0, p.stderr
    assert "#define SH_VG_HAVE_CLO_ERROR_EXITCODE 0\n" in p.stdout
    assert "#define SH_VG_HAVE_CLO_READ_INLINE_INFO 0\n" in p.stdout


def test_build_used_the_probe():
    """The tree's sh_config.h is what the probe says about the configured Valgrind."""
    p = probe(INCLUDEDIR)
    assert p.returncode == 0, p.stderr
    assert (ROOT / "sh_config.h").read_text() == p.stdout


@pytest.fixture(scope="module")
def fresh_tree(tmp_path_factory):
    """The configure script and its inputs, unconfigured, in a temporary directory."""
    d = tmp_path_factory.mktemp("tree")
    for f in ["configure", "configure.ac", "Makefile.am", "Makefile.in", "aclocal.m4"]:
        shutil.copy2(ROOT / f, d / f)
    shutil.copytree(ROOT / "build-aux", d / "build-aux")
    shutil.copytree(ROOT / "stackheap", d / "stackheap",
                    ignore=shutil.ignore_patterns("*.o"))
    return d


@pytest.mark.parametrize("version", ["3.18.1", "3.28.0"])
def test_configure_names_the_supported_range(fresh_tree, tmp_path, version):
    pc = subprocess.run(["pkg-config", "--variable=pcfiledir", "valgrind"],
                        capture_output=True, text=True, check=True).stdout.strip()
    fake = tmp_path / "vg"
    (fake / "lib" / "pkgconfig").mkdir(parents=True)
    text = (Path(pc) / "valgrind.pc").read_text()
    text = re.sub(r"^Version: .*$", f"Version: {version}", text, flags=re.M)
    (fake / "lib" / "pkgconfig" / "valgrind.pc").write_text(text)
    p = subprocess.run(["./configure", "-q", f"--with-valgrind={fake}"], cwd=fresh_tree,
                       capture_output=True, text=True, timeout=300)
    assert p.returncode != 0
    assert f"found Valgrind {version}" in p.stderr
    assert "stackheap supports Valgrind 3.19 to 3.27" in p.stderr
