#!/usr/bin/env python3
# SPDX-FileCopyrightText: 2026 Offen developers
# SPDX-License-Identifier: Apache-2.0
"""Run `reuse lint` on the repository, whatever the installed reuse version.

reuse 3 and newer read REUSE.toml directly. Debian 12 ships reuse 1.1, which knows only
.reuse/dep5; for it we lint a temporary copy of the files git would commit (tracked and
untracked, minus ignored ones, as they are in the working tree) with a .reuse/dep5
translated from REUSE.toml. The repository itself keeps REUSE.toml only, as newer reuse
refuses a project that has both.
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib


def reuse_major():
    out = subprocess.run(["reuse", "--version"], capture_output=True, text=True, check=True).stdout
    m = re.search(r"(\d+)\.\d+", out)
    return int(m.group(1)) if m else 0


def dep5_pattern(glob):
    # REUSE.toml: "*" stays within a folder, "**" crosses folders. DEP5: "*" matches any
    # characters, slashes included, so both become "*" (slightly broader, never narrower).
    glob = glob.replace("**/", "*")
    return re.sub(r"\*+", "*", glob)


def dep5_from_toml(path):
    with open(path, "rb") as f:
        data = tomllib.load(f)
    paras = ["Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n"]
    for a in data.get("annotations", []):
        paths = a["path"] if isinstance(a["path"], list) else [a["path"]]
        cr = a.get("SPDX-FileCopyrightText")
        cr = cr if isinstance(cr, list) else [cr]
        lic = a.get("SPDX-License-Identifier")
        paras.append(
            "Files: " + " ".join(dep5_pattern(p) for p in paths) + "\n"
            + "Copyright: " + "\n ".join(cr) + "\n"
            + "License: " + lic + "\n"
        )
    return "\n".join(paras)


def main():
    root = subprocess.run(["git", "rev-parse", "--show-toplevel"], capture_output=True,
                          text=True, check=True).stdout.strip()
    if reuse_major() >= 3:
        return subprocess.call(["reuse", "--root", root, "lint"])
    files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                           cwd=root, capture_output=True, check=True).stdout.split(b"\0")
    with tempfile.TemporaryDirectory(prefix="offen-reuse-") as tmp:
        for f in files:
            if not f:
                continue
            rel = os.fsdecode(f)
            src = os.path.join(root, rel)
            if not os.path.lexists(src):
                continue  # deleted in the working tree
            dst = os.path.join(tmp, rel)
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            shutil.copy2(src, dst, follow_symlinks=False)
        os.makedirs(os.path.join(tmp, ".reuse"), exist_ok=True)
        with open(os.path.join(tmp, ".reuse", "dep5"), "w") as f:
            f.write(dep5_from_toml(os.path.join(root, "REUSE.toml")))
        res = subprocess.run(["reuse", "--root", tmp, "lint"], capture_output=True, text=True)
        # Name files as they are in the repository, not in the temporary copy.
        sys.stdout.write(res.stdout.replace(tmp + os.sep, ""))
        sys.stderr.write("".join(line for line in res.stderr.replace(tmp + os.sep, "").splitlines(True)
                                 if "could not find supported VCS" not in line))
        return res.returncode


if __name__ == "__main__":
    sys.exit(main())
