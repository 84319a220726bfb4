"""The weekly summary's ledger reads and writes now live in coalition/ledger/summary_history.py.

This name stays for flows/weekly_summary.py, which still imports it; it holds no SQL.
"""

from coalition.ledger.summary_history import *  # noqa: F403
from coalition.ledger.summary_history import __all__  # noqa: F401
