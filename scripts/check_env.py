"""Check that a Python can build minireason's .venv; `make` runs this before `python -m venv`.

On a problem it prints ONE line saying what to do and exits 1. It has to run on the old Pythons it
rejects, so it keeps to syntax that Python 2.7 and 3.6 still understand (no f-strings, no walrus).
Usage: python3 scripts/check_env.py [NAME_THE_USER_TYPED [MAKE_GOAL]]
"""
import os
import re
import sys


def needed():
    """The oldest Python minireason supports, read from python_requires in setup.cfg, e.g. (3, 11)."""
    setup_cfg = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "setup.cfg")
    with open(setup_cfg) as f:
        found = re.search(r"^python_requires\s*=\s*>=\s*(\d+)\.(\d+)", f.read(), re.M)
    return (int(found.group(1)), int(found.group(2)))


def problem():
    """The one-line message for the first problem found, or None when this Python is fine."""
    oldest = needed()
    name = sys.argv[1] if len(sys.argv) > 1 and sys.argv[1] else "python3"
    goal = sys.argv[2] if len(sys.argv) > 2 and sys.argv[2] else "demo"
    found = ".".join(str(part) for part in sys.version_info[:3])
    where = sys.executable or name
    if tuple(sys.version_info[:2]) < oldest:
        return ("minireason needs Python %d.%d or newer; found %s at %s. Install a newer Python or run: "
                "make PYTHON=python%d.%d %s" % (oldest + (found, where) + oldest + (goal,)))
    try:
        import ensurepip  # noqa: F401  (Debian/Ubuntu ship it in the separate python3-venv package)
        import venv  # noqa: F401
    except ImportError:
        return ("%s -m venv is unavailable: on Debian/Ubuntu install it with: sudo apt install python3-venv "
                "(or python%d.%d-venv)" % (name, sys.version_info[0], sys.version_info[1]))
    return None


if __name__ == "__main__":
    message = problem()
    if message:
        sys.stderr.write(message + "\n")
        sys.exit(1)
