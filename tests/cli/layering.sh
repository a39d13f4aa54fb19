#!/usr/bin/env bash
# The layers of src/ (README: "How the code is laid out"): every #include of
# a project header, in src/ and include/ncbocr/, goes to the same layer or
# one below it. A header belongs to the folder of its .cc (src/FOLDER/x.cc
# -> include/ncbocr/x.h); header-only ones are listed here. In particular
# nothing under extract/, ocr/, net/ or sources/ includes the spool, the stage
# driver or a stage: those libraries take plain inputs and return values, and
# the stage files adapt them to the spool.
set -euo pipefail
: "${SOURCE_DIR:?source tree}"
exec python3 - "$SOURCE_DIR" <<'PY'
import pathlib, re, sys

root = pathlib.Path(sys.argv[1])
# What each layer may include besides itself.
allowed = {
    "base": set(),
    "spool": {"base"},
    "net": {"base"},
    "ocr": {"base"},
    "sources": {"base", "net"},
    # claim.h is the claim's plain value type (PageRange); the spool and stage
    # machinery stay out of reach.
    "extract": {"base", "ocr", "sources", "claim.h"},
    "sinks": {"base", "spool", "net", "sources", "extract"},
    "stages": {"base", "spool", "net", "ocr", "sources", "extract", "sinks"},
    "ops": {"base", "spool", "net", "ocr", "sources", "extract", "sinks", "stages"},
}
header_only = {"clock.h": "base", "status.h": "base", "version.h": "base",
               "email.h": "sources", "ocr_batch.h": "ocr", "gpu.h": "ocr"}
layer_of = dict(header_only)
for cc in (root / "src").rglob("*.cc"):
    rel = cc.relative_to(root / "src")
    if len(rel.parts) != 2:
        print(f"FAIL: src/{rel}: every source file lives in a layer folder", file=sys.stderr)
        sys.exit(1)
    layer_of[cc.stem + ".h"] = rel.parts[0]
for cc in (root / "src").rglob("*.h"):
    layer_of["/".join(cc.relative_to(root / "src").parts)] = cc.relative_to(root / "src").parts[0]

errors = 0
inc = re.compile(r'^#include "(?:ncbocr/)?([a-z_/]+\.h)"', re.M)
files = list((root / "src").rglob("*.cc")) + list((root / "src").rglob("*.h")) + list((root / "src").rglob("*.cu"))
files += list((root / "include" / "ncbocr").glob("*.h"))
for f in files:
    if f.parent.name == "ncbocr":
        layer = layer_of.get(f.name)
    else:
        layer = f.relative_to(root / "src").parts[0]
    if layer is None:
        print(f"FAIL: {f.relative_to(root)}: belongs to no layer (add it to header_only)", file=sys.stderr)
        errors += 1
        continue
    for name in inc.findall(f.read_text()):
        target = layer_of.get(name) or layer_of.get(name.split("/")[-1])
        if "/" not in name and f.parent.name != "ncbocr" and (f.parent / name).exists():
            target = layer  # a private header of the same folder
        if target is None:
            print(f"FAIL: {f.relative_to(root)}: includes {name}, which belongs to no layer", file=sys.stderr)
            errors += 1
        elif target != layer and target not in allowed[layer] and name.split("/")[-1] not in allowed[layer]:
            print(f"FAIL: {f.relative_to(root)} ({layer}) includes {name} ({target})", file=sys.stderr)
            errors += 1
print(f"{len(files)} files checked, {errors} layering violations")
sys.exit(1 if errors else 0)
PY
