"""The shipped program's stack-config helpers (above the resources): which bots a stack deploys
(`bots_config.py`), which export files it imports (`import_plan.py`), the promotion guard (`promotion.py`)
and the checks of the stack config as a whole (`stack_config.py`)."""
