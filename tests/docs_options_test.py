#!/usr/bin/python3
"""docs_options_test.py - every option of sluice-controlplane is documented.

Usage: docs_options_test.py PATH/TO/sluice-controlplane SRCDIR

Reads the options from the binary's --help and fails when one of them is
not named in docs/controlplane.md, so the docs cannot fall behind the
option table in controlplane/config.c.
"""
import os, re, subprocess, sys

cp, src = sys.argv[1], sys.argv[2]
helptext = subprocess.run([cp, "--help"], capture_output=True, text=True, check=True).stdout
opts = sorted(set(re.findall(r"^  (--[a-z0-9-]+)", helptext, re.M)))
with open(os.path.join(src, "docs", "controlplane.md")) as f:
    doc = f.read()
missing = [o for o in opts if not re.search(re.escape(o) + r"(?![a-z0-9-])", doc)]
print(f"{len(opts)} options, {len(missing)} not in docs/controlplane.md: {missing}")
sys.exit(1 if missing or len(opts) < 20 else 0)
