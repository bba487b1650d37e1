"""The allocator setting made at import (groundup/_allocator.py)."""

import os
import platform
import subprocess
import sys

import pytest

glibc = pytest.mark.skipif(platform.system() != "Linux" or platform.libc_ver()[0] != "glibc",
                           reason="the setting applies to glibc only")


def _tuned_in_subprocess(env_value):
    env = dict(os.environ)
    env.pop("GROUNDUP_MALLOC_TUNING", None)
    if env_value is not None:
        env["GROUNDUP_MALLOC_TUNING"] = env_value
    out = subprocess.run([sys.executable, "-c",
                          "import groundup._allocator as a, groundup; print(a.tuned)"],
                         env=env, capture_output=True, text=True, check=True)
    return out.stdout.strip()


@glibc
def test_import_keeps_freed_memory_for_reuse():
    assert _tuned_in_subprocess(None) == "True"


@glibc
def test_environment_variable_turns_it_off():
    assert _tuned_in_subprocess("0") == "False"
