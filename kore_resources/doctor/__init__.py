"""`kore-doctor`: every setting a deploy of Kore.ai bots needs, checked against the platform with read-only
calls, in seconds; nothing is changed. `python -m kore_resources.doctor --help`, or
README, "Pointing it at a real Kore.ai host".

Modules by job: `stack` reads a stack's config through the `pulumi` CLI and `plan` resolves the settings
as the program does (what a deploy would use), `probe` makes the calls (the only I/O), `checks` decides
what each answer means (pure), `run` orders the checks, `report` prints them, `__main__` is the CLI.
"""
