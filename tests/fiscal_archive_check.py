"""Checks Comptoir fiscal archives as docs/fiscal.md describes them, without Comptoir's code.

    python fiscal_archive_check.py PUBLIC_KEY_HEX ARCHIVE.zip [NEXT.zip ...]

Prints OK, or the first problem, and exits 0 or 1. Needs only the `cryptography` package.
"""

import hashlib
import json
import sys
import zipfile

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey


def check(key, path, before):
    z = zipfile.ZipFile(path)
    manifest_line = z.read("manifest.json").rstrip(b"\n")
    key.verify(bytes.fromhex(z.read("manifest.sig").decode().strip()), manifest_line)
    manifest = json.loads(manifest_line)
    lines = z.read("records.jsonl").split(b"\n")[:-1]
    sigs = [s.split(" ") for s in z.read("signatures.txt").decode().split("\n")[:-1]]
    i = 0
    for chain in manifest["chains"]:
        prev = chain["prev"]
        for number in range(chain["first"], chain["last"] + 1):
            where = f"{chain['type']} record {number}"
            assert i < len(lines), f"{where} is missing"
            record, digest = json.loads(lines[i]), hashlib.sha256(lines[i]).hexdigest()
            assert (record["type"], record["number"]) == (chain["type"], number), f"{where} moved"
            assert record["prev"] == prev, f"{where}: broken link"
            assert sigs[i][2] == digest, f"{where}: content changed"
            key.verify(bytes.fromhex(sigs[i][3]), lines[i])
            prev, i = digest, i + 1
        assert prev == chain["last_hash"], f"{chain['type']}: last record is not the signed one"
    assert i == len(lines), "records the manifest does not name"
    assert hashlib.sha256(z.read("records.jsonl")).hexdigest() == manifest["records_sha256"]
    if before:
        previous = manifest["previous_archive"] or {}
        assert previous.get("number") == before[0]["number"], "archives out of order"
        assert previous["manifest_sha256"] == before[1], "not the previous archive"
        ends = {c["type"]: c for c in before[0]["chains"]}
        for chain in manifest["chains"]:
            end = ends.get(chain["type"])
            if end and chain["first"] == end["last"] + 1:
                assert chain["prev"] == end["last_hash"], f"{chain['type']}: chains do not join"
    return manifest, hashlib.sha256(manifest_line).hexdigest()


def main(args):
    key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(args[0]))
    before = None
    for path in args[1:]:
        try:
            before = check(key, path, before)
        except Exception as problem:  # a failed assert, a bad signature, a broken zip
            print(f"{path}: BAD {type(problem).__name__} {problem}")
            return 1
        print(f"{path}: OK")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
