#!/usr/bin/env python3
"""Prints the (abridged) real output of a README example command, for pasting
into README.md. Run it against a local server started with the README's quick
start. server/readme_test.go checks that every output in the README is a part
of what the server really answers.

usage: docs/tools/readme_outputs.py 'curl -s localhost:8080/v1/rulesets/jilin-2014'
"""
import json
import subprocess
import sys

KEEP_RESULT = ["ruleId", "status", "value", "unit", "threshold", "thresholdUpper", "tier", "sizeClass",
               "thresholdReason", "shortfall", "shortfallUnit", "shortfallItems", "citation",
               "missingFields", "reason", "evaluated", "compliant", "insufficientData", "share"]


def abridge(x, key=""):
    if isinstance(x, dict):
        if "ruleId" in x and "status" in x:
            out = {}
            for k in KEEP_RESULT:
                if k not in x or x[k] in ("", [], None):
                    continue
                v = x[k]
                if k == "citation":
                    v = {"section": v["section"], "originalText": v["originalText"]}
                if k == "shortfallItems":
                    v = [{kk: vv for kk, vv in it.items() if kk != "facility" or vv != "FACILITY_TYPE_UNSPECIFIED"} for it in v]
                out[k] = v
            return out
        if "rules" in x and key == "rulesets":  # the catalog: one line of each ruleset
            return {k: x[k] for k in ("id", "title", "version") if k in x}
        if "rules" in x and "tiers" in x:  # a ruleset: show the head and a rule
            out = {k: x[k] for k in ("id", "title", "version", "source", "tiers", "vehicleClasses") if k in x}
            out["rules"] = [abridge_rule(r) for r in x["rules"][:1]]
            return out
        return {k: abridge(v, k) for k, v in x.items()}
    if isinstance(x, list):
        if x and all(isinstance(v, dict) and "index" in v and "settlementId" in v for v in x):
            # Batch items: the counts of each audit, or the item's error.
            out = []
            for v in x:
                item = {"index": v["index"], "settlementId": v["settlementId"]}
                if v.get("audit"):
                    item["audit"] = {"counts": v["audit"]["counts"]}
                if v.get("error"):
                    item["error"] = v["error"]
                out.append(item)
            return out
        if x and all(isinstance(v, dict) and "ruleId" in v and "counts" in v and "status" not in v for v in x):
            # Per-rule batch summaries: the rules with the most failures.
            worst = sorted(x, key=lambda r: -r["counts"].get("nonCompliant", 0))[:2]
            return [v for v in x if v in worst]
        if len(x) > 4 and all(isinstance(v, dict) and "ruleId" in v for v in x):
            # Long result lists: one result of each status, non-compliant ones first.
            seen, picked = set(), []
            for v in sorted(x, key=lambda r: r["status"] != "STATUS_NON_COMPLIANT"):
                if v["status"] not in seen:
                    seen.add(v["status"])
                    picked.append(v)
            order = {id(v): i for i, v in enumerate(x)}
            return [abridge(v, key) for v in sorted(picked, key=lambda v: order[id(v)])]
        return [abridge(v, key) for v in x]
    return x


def drop_empty(x):
    if isinstance(x, dict):
        return {k: drop_empty(v) for k, v in x.items() if v not in ("", [], None, False)}
    if isinstance(x, list):
        return [drop_empty(v) for v in x]
    return x


def abridge_rule(r):
    return drop_empty({k: r[k] for k in ("id", "title", "citation", "metric", "comparison", "tiered", "thresholds") if k in r})


cmd = sys.argv[1]
out = subprocess.run(cmd, shell=True, check=True, capture_output=True).stdout
print(json.dumps(abridge(json.loads(out)), indent=2, ensure_ascii=False))
