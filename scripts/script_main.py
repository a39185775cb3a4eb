"""The command-line edge the project's Python scripts share: run main(), turn the errors a script
declares into one line `PROG: error: ...` and exit 2, leave quietly when the reader of stdout has gone
(a pager, head), and say so on Ctrl-C; and make sure the interpreter running a script has the
modules it needs (Debian's /usr/bin/python3, where scripts/install-deps.sh installs them).
Importing it runs nothing."""

import importlib.util
import os
import sys

DEBIAN_PYTHON = "/usr/bin/python3"


def need_modules(prog, modules):
    """Before a script imports `modules` (names such as "numpy", "pandas"): when the interpreter
    running it lacks one, run the script again under /usr/bin/python3 if that is another interpreter
    that has them all, else exit 1 with one line naming the interpreter and the missing module."""
    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    if not missing:
        return
    here = os.path.realpath(sys.executable or "")
    if os.path.exists(DEBIAN_PYTHON) and os.path.realpath(DEBIAN_PYTHON) != here \
            and os.environ.get("STCSIM_PYTHON_REEXEC") != "1":
        os.environ["STCSIM_PYTHON_REEXEC"] = "1"  # once: never loop between interpreters
        os.execv(DEBIAN_PYTHON, [DEBIAN_PYTHON, os.path.abspath(sys.argv[0])] + sys.argv[1:])
    fix = ("scripts/install-deps.sh installs it" if here == os.path.realpath(DEBIAN_PYTHON)
           else f"run the script with {DEBIAN_PYTHON}, where scripts/install-deps.sh installs it")
    print(f"{prog}: error: {sys.executable} has no module {', '.join(missing)} (the scripts use Debian's python3 "
          f"packages): {fix}", file=sys.stderr)
    sys.exit(1)


def run(main, prog, errors, interrupted_status=130):
    """sys.exit(main()), with each exception type in `errors` printed as one line and exit status 2;
    Ctrl-C exits with `interrupted_status`."""
    try:
        sys.exit(main())
    except errors as e:
        print(f"{prog}: error: {e}", file=sys.stderr)
        sys.exit(2)
    except BrokenPipeError:  # the reader left: nothing more to say
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        sys.exit(interrupted_status)
