"""Making a highspy.Highs quietly, and the process-wide lock around HiGHS solves.

Kept apart from `solver` so that a worker process that drives highspy directly (the stress test's recourse
LPs) need not import Pyomo.
"""

from __future__ import annotations

import threading

#: Serialises HiGHS solves in one process (Pyomo redirects the process's output streams during a solve, and
#: concurrent solves in threads of one process can deadlock).
SOLVE_LOCK = threading.RLock()

_BANNER_SHOWN = False


def new_highs():
    """A highspy.Highs with its output off; the banner HiGHS prints at its first construction in a
    process goes to /dev/null instead of the user's terminal."""
    global _BANNER_SHOWN
    import highspy

    with SOLVE_LOCK:
        if _BANNER_SHOWN:
            highs = highspy.Highs()
        else:
            import os
            import sys

            sys.stdout.flush()
            saved = os.dup(1)
            try:
                with open(os.devnull, "w") as null:
                    os.dup2(null.fileno(), 1)
                    highs = highspy.Highs()
            finally:
                os.dup2(saved, 1)
                os.close(saved)
            _BANNER_SHOWN = True
    highs.setOptionValue("output_flag", False)
    return highs


