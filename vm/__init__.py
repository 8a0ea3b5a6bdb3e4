"""VM harness: source -> series -> config -> build (cached) -> boot -> run -> verdict.

See ../shared/DESIGN.md ("Data flow of one gate run") and `python -m vm --help`.
"""
