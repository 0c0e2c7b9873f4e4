#!/usr/bin/env python3
"""Turns a Terraform plan (JSON from `terraform show -json PLANFILE`) into a readable drift report.

Prints one line per changed attribute: resource address, attribute path, old -> new. Values
Terraform marks sensitive are shown as (sensitive), values not known until apply as (known after
apply). Reads the JSON from the file given as the only argument, or from stdin.
Exit status: 0 when the plan changes nothing, 2 when it does (like -detailed-exitcode).
"""
import json
import sys

SENSITIVE = "(sensitive)"
UNKNOWN = "(known after apply)"
ABSENT = "(absent)"


def show(value):
    if value is ABSENT:
        return ABSENT
    if isinstance(value, str):
        return json.dumps(value)
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def walk(path, before, after, before_sens, after_sens, unknown, out):
    """Appends (path, old, new) for every leaf that differs."""
    if before_sens is True or after_sens is True:
        if before != after or unknown is True:
            out.append((path, SENSITIVE, SENSITIVE))
        return
    if unknown is True:
        out.append((path, show(before), UNKNOWN))
        return
    if isinstance(before, dict) and isinstance(after, dict):
        for key in sorted(set(before) | set(after)):
            walk(
                path + [str(key)],
                before.get(key, ABSENT),
                after.get(key, ABSENT),
                sub(before_sens, key),
                sub(after_sens, key),
                sub(unknown, key),
                out,
            )
        return
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        for i, (b, a) in enumerate(zip(before, after)):
            walk(path + [str(i)], b, a, sub(before_sens, i), sub(after_sens, i), sub(unknown, i), out)
        return
    if before != after:
        out.append((path, show(before), show(after)))


def sub(marks, key):
    """The sensitivity/unknown marks below one key or index."""
    if isinstance(marks, dict):
        return marks.get(key)
    if isinstance(marks, list) and isinstance(key, int) and key < len(marks):
        return marks[key]
    return None


def describe(change):
    actions = change["change"]["actions"]
    if actions == ["no-op"] or actions == ["read"]:
        return None
    if "delete" in actions and "create" in actions:
        return "must be replaced"
    return {"create": "is missing and will be created", "delete": "will be destroyed", "update": "has drifted"}.get(
        actions[0], "/".join(actions)
    )


def report(plan):
    lines = []
    drifted = 0
    for change in plan.get("resource_changes", []):
        what = describe(change)
        if what is None:
            continue
        drifted += 1
        lines.append(f"{change['address']} {what}")
        c = change["change"]
        diffs = []
        walk(
            [],
            c.get("before") if c.get("before") is not None else {},
            c.get("after") if c.get("after") is not None else {},
            c.get("before_sensitive"),
            c.get("after_sensitive"),
            c.get("after_unknown"),
            diffs,
        )
        for path, old, new in diffs:
            lines.append(f"  {'.'.join(path) or '(whole object)'}: {old} -> {new}")
    # Changes Terraform found outside of Terraform (refresh-only drift of attributes nobody configured).
    for drift in plan.get("resource_drift", []):
        c = drift["change"]
        diffs = []
        walk([], c.get("before") or {}, c.get("after") or {}, c.get("before_sensitive"), c.get("after_sensitive"), None, diffs)
        if diffs:
            lines.append(f"{drift['address']} changed outside of Terraform")
            for path, old, new in diffs:
                lines.append(f"  {'.'.join(path)}: {old} -> {new}")
    return drifted, lines


def main():
    text = open(sys.argv[1]).read() if len(sys.argv) > 1 else sys.stdin.read()
    drifted, lines = report(json.loads(text))
    if drifted == 0:
        print("No drift: the infrastructure matches the configuration.")
        return 0
    print(f"Drift detected in {drifted} resource(s):")
    print("\n".join(lines))
    return 2


if __name__ == "__main__":
    sys.exit(main())
