#!/usr/bin/env python3
"""Copies the real OSV records of a few packages from ../shared/advisories into
crates/pipeguard-deps/tests/fixtures/osv/<Ecosystem>/all.zip, so that the
deps tests run against real advisory data without ../shared. Records are
copied byte for byte; their licences are in fixtures/osv/README.md."""
import json, pathlib, sys, zipfile

SRC = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/advisories")
DST = pathlib.Path(__file__).resolve().parent.parent / "crates/pipeguard-deps/tests/fixtures/osv"
WANT = {
    "PyPI": ["jinja2", "requests", "urllib3", "pyyaml", "pillow"],
    "crates.io": ["smallvec", "time", "tokio"],
    "npm": ["qs", "lodash"],
    "Go": ["golang.org/x/text", "golang.org/x/crypto"],
    "RubyGems": ["rack"],
    "Packagist": ["symfony/http-kernel"],
    "Maven": ["commons-collections:commons-collections"],
    "Debian": ["openssl", "zlib"],
}
# Further arguments limit the run to those ecosystems (the others' zips stay
# byte for byte as they are).
ONLY = set(sys.argv[2:])
for eco, names in WANT.items():
    if ONLY and eco not in ONLY:
        continue
    src = zipfile.ZipFile(SRC / eco / "all.zip")
    out_dir = DST / eco
    out_dir.mkdir(parents=True, exist_ok=True)
    n = 0
    with zipfile.ZipFile(out_dir / "all.zip", "w", zipfile.ZIP_DEFLATED) as out:
        for name in sorted(src.namelist()):
            raw = src.read(name)
            rec = json.loads(raw)
            if any(a.get("package", {}).get("name", "").lower() in names for a in rec.get("affected", [])):
                out.writestr(name, raw)
                n += 1
    print(f"{eco}: {n} records")
