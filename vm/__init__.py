"""VM harness: source -> series -> config -> build (cached) -> boot -> run -> verdict.

One gate run: ``source`` unpacks Debian's linux-source (or takes ``--kernel-dir``),
``series`` applies ``patches/series``, ``kconfig`` merges and verifies the fragments,
``build``/``cache`` build or reuse the bzImage, ``boot`` runs the suite in a virtme-ng
guest with a shared run directory, ``judge`` reads the results and the console.
``python -m vm --help`` lists the commands; README.md has the details.
"""
