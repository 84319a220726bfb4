"""Seeds for the sandbox: `empty` (a bare Slack workspace) and `demo` (a fictional coalition).

Data generation is pure (`demo.py` and the modules it assembles); `apply.py` writes
it into the backends. Tests and the leak scanner use `personal_values`,
`intake_rows`/`intake_cases` and `demo_data`.
"""

from sandbox.seed.apply import (
    apply_seed,
    demo_data,
    demo_today,
    intake_cases,
    intake_rows,
    personal_values,
)
from sandbox.seed.demo import DemoData, build_demo

__all__ = [
    "DemoData",
    "apply_seed",
    "build_demo",
    "demo_data",
    "demo_today",
    "intake_cases",
    "intake_rows",
    "personal_values",
]
