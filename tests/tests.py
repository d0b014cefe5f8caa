"""The Grace test list, read by tests/run.py (`make check`).

The tests live in one file per area, tests/tests_AREA.py (boot, proc, rcu,
ls, schemes, ...); this module imports every one of them. Add a test with
testlib.test(); the full parameter list is in testlib.py:

    test(NAME, prog=PROG, args=[...], ncpu=1, timeout=60, opts=["hz=100"],
         expect=[regex, ...], reject=[regex, ...], status=0 | "panic" | None,
         check=callable(output) -> error message or None, stress=False)

Names group by prefix (boot-, proc-, rcu-, ls-, ...) so that
`make check TESTS=boot` or `python3 tests/run.py 'rcu-*'` picks a group.
"""

import importlib
from pathlib import Path

for _path in sorted(Path(__file__).parent.glob("tests_*.py")):
    importlib.import_module(_path.stem)
