"""The command-line edge the project's Python scripts share: run main(), turn the errors a script
declares into one line `PROG: error: ...` and exit 2, leave quietly when the reader of stdout has gone
(a pager, head), and say so on Ctrl-C. Importing it runs nothing."""

import os
import sys


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
