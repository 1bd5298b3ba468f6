#!/usr/bin/env python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Lists every target of the Makefile whose recipe could run before the deps
# step: a target with a recipe from which $(DEPS_STAMP) is not reachable
# through its prerequisites (normal or order-only).  make's own database
# (make -pnBr, without the built-in rules) is read, so pattern rules count as make instantiates them.
# Exempt: the stamp itself, `clean`, and directories (a recipe of mkdir
# only; the stamp needs $(OUTPUT) first).  Usage: deps-edges.py [MAKEFILE]
# Prints one offending target a line; exits 1 if there is any.
import re
import subprocess
import sys

makefile = sys.argv[1] if len(sys.argv) > 1 else "Makefile"
goals = ["all", "test", "demo", "bench", "fuzz", "fuzz-short", "image",
         "manifests-check", "fresh-check"]
db = subprocess.run(["make", "-f", makefile, "-pnBr", "--no-print-directory"] + goals,
                    capture_output=True, text=True).stdout
stamp = re.search(r"^DEPS_STAMP :?= (\S+)$", db, re.M)
if not stamp:
    sys.exit("deps-edges: no DEPS_STAMP in make's database of " + makefile)
stamp = stamp.group(1)

files = db[db.index("\n# Files\n"):db.index("\n# files hash-table stats")]
prereqs, recipes = {}, {}
for entry in files.split("\n\n"):
    lines = entry.strip("\n").split("\n")
    rule = [l for l in lines if re.match(r"[^#\t][^:]*:(?!=)", l)
            and not re.search(r"^[^:]*: \S+ [:+?]?= ", l)]
    if not rule:
        continue
    target, _, deps = rule[-1].partition(":")
    prereqs.setdefault(target, set()).update(deps.replace("|", " ").split())
    if any(re.match(r"#\s+recipe to execute", l) for l in lines):
        recipes[target] = [l.strip() for l in lines if l.startswith("\t")]


def reaches_stamp(target, seen):
    if target == stamp:
        return True
    seen.add(target)
    return any(reaches_stamp(p, seen) for p in prereqs.get(target, ()) if p not in seen)


bad = [t for t, r in sorted(recipes.items())
       if t not in (stamp, "clean")
       and not all(re.fullmatch(r"\$\(Q\)mkdir -p \$@", l) for l in r)
       and not reaches_stamp(t, set())]
print("\n".join(bad), end="\n" if bad else "")
sys.exit(1 if bad else 0)
