"""Stores of constants: the tool checks none that cannot point into a
block (sh_instrument.c).  Besides tiny and huge values, that is a constant
pointing into the file mapping whose code stores it (every call's return
address), because malloc'd blocks never live in file mappings; a block the
program declares there itself turns that off, and earlier translations are
redone."""
import re
import subprocess

from conftest import compile_prog, run_tool


def test_block_declared_over_code_sees_constant_store(tmp_path):
    exe = compile_prog("const_code_block.c", "-O2")
    dis = subprocess.run(["objdump", "-d", "--no-show-raw-insn", str(exe)],
                         capture_output=True, text=True, check=True).stdout
    body = dis.split("<publish>:", 1)[1].split("\n\n", 1)[0]
    assert re.search(r"lea\s+.*<target>", body), body   # the address, rip-relative
    r = run_tool([exe], tmp_path=tmp_path)
    assert r.returncode == 0, r.stderr
    s = r.site("main")
    assert s["blocks"] == 1
    assert s["classes"]["global"] == 1, s["classes"]
    assert s["first_escape"]["at"]["fn"] == "publish"
    assert s["first_escape"]["target"].startswith("global variable 'g_fn'"), s["first_escape"]
