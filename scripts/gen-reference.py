#!/usr/bin/env python3
"""Regenerate data/reference/{divisions,divisions_retired,industries}.csv.

Sources (public, checked out locally; nothing is downloaded at build or run time):

  GB/T 2260 divisions: github.com/yescallop/areacodes (CC0), a transcription of the
  Ministry of Civil Affairs' 《中华人民共和国县级以上行政区划代码》:
    data/2024.txt  — codes in use on 2024-12-31 ("代码 名称" per line)
    result.csv     — every code since 1980 with its province, prefecture, status and
                     the year it was retired (代码,一级行政区,二级行政区,名称,级别,状态,启用时间,变更/弃用时间,新代码)
  GB/T 4754-2017 industries: github.com/zmshe/capital, src/utils/category.js at
  commit 0b8f1ae480aadd9f35aca2fd0efb934e9a7101e8: 20 门类, 97 大类, 473 中类 and 1380
  小类, plus 3741 飞机制造, which the source mislabels as a second 中类 374. A 中类 with a
  single 小类 is listed only as that 小类 and takes its name, as in the standard's tables.
  Not checked against the standard's own text: whether it counts 1380 or 1381 小类, and
  amendment No. 1 (第1号修改单, 2019, said to bring 1382 小类) is not applied.

    python3 scripts/gen-reference.py AREACODES_DIR CATEGORY_JS
"""
import csv, json, re, subprocess, sys
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "data" / "reference"
RETIRED_SINCE = 2000  # older codes predate every USCC and most records


def divisions(src: Path):
    current = []
    for line in (src / "data" / "2024.txt").read_text(encoding="utf-8").splitlines():
        code, name = line.split(maxsplit=1)
        assert re.fullmatch(r"\d{6}", code) and "," not in name, line
        current.append((code, name.strip()))
    in_use = {c for c, _ in current}
    retired = []
    with open(src / "result.csv", encoding="utf-8-sig") as f:
        for r in csv.DictReader(f):
            until = r["变更/弃用时间"]
            if r["状态"] != "弃用" or not until or int(until) < RETIRED_SINCE or r["代码"] in in_use:
                continue
            parts = [r["一级行政区"]]
            second = r["二级行政区"]
            if second and second not in ("直辖", r["名称"]) and r["级别"] == "县级":
                parts.append(second)
            if r["名称"] != r["一级行政区"]:
                parts.append(r["名称"])
            retired.append((r["代码"], "".join(parts), until))
    retired.sort()
    assert len({c for c, *_ in retired}) == len(retired)
    return current, retired


def industries(js: Path):
    # the file is a JavaScript literal (unquoted keys, single quotes): let node read it
    script = ("const s=require('fs').readFileSync(process.argv[1],'utf8').replace(/^\\s*export default/,'');"
              "process.stdout.write(JSON.stringify(eval('('+s.trim().replace(/;$/,'')+')')))")
    rows = json.loads(subprocess.run(["node", "-e", script, str(js)], capture_output=True, check=True, text=True).stdout)
    out, seen = [], set()
    for r in rows:
        name = re.sub(r"\s+", "", r["name"])
        if r["class3"] == "374" and name == "飞机制造":
            # erratum in the source: 3741 飞机制造 is a 小类 of 374 航空、航天器及设备制造
            r = {**r, "level": "4", "class4": "3741"}
        code = r["class4"] or r["class3"] or r["class2"] or r["class1"]
        assert code.startswith(r["class3"] or r["class2"]) and (r["class3"] or r["class2"]).startswith(r["class2"]), r
        if r["level"] == "4" and r["class3"] not in seen:
            # a 中类 with one 小类 (code ending in 0) is named by it
            assert r["class4"].endswith("0"), r
            out.append((r["class3"], r["class1"], name))
            seen.add(r["class3"])
        assert "," not in name and code not in seen, r
        seen.add(code)
        out.append((code, r["class1"], name))
    counts = [sum(1 for c, *_ in out if (len(c) if c.isdigit() else 1) == n) for n in (1, 2, 3, 4)]
    assert counts == [20, 97, 473, 1381], counts
    return out


def main():
    areas, js = Path(sys.argv[1]), Path(sys.argv[2])
    current, retired = divisions(areas)
    with open(OUT / "divisions.csv", "w", encoding="utf-8", newline="\n") as f:
        f.write("# GB/T 2260 行政区划代码: 民政部《中华人民共和国县级以上行政区划代码》, codes in use on 2024-12-31\n")
        f.write("# (via github.com/yescallop/areacodes data/2024.txt, CC0). Regenerate: scripts/gen-reference.py\n")
        f.write("code,name\n")
        for c, n in current:
            f.write(f"{c},{n}\n")
    with open(OUT / "divisions_retired.csv", "w", encoding="utf-8", newline="\n") as f:
        f.write(f"# GB/T 2260 codes retired {RETIRED_SINCE}-2024 (民政部, via github.com/yescallop/areacodes result.csv, CC0):\n")
        f.write("# full name while in use and the year the code went out of use. Regenerate: scripts/gen-reference.py\n")
        f.write("code,full_name,retired\n")
        for c, n, y in retired:
            f.write(f"{c},{n},{y}\n")
    with open(OUT / "industries.csv", "w", encoding="utf-8", newline="\n") as f:
        f.write("# GB/T 4754-2017 国民经济行业分类: 门类 (letter), 大类 (2 digits), 中类 (3), 小类 (4).\n")
        f.write("# The 2017 text as transcribed in github.com/zmshe/capital src/utils/category.js @0b8f1ae;\n")
        f.write("# amendment No. 1 (第1号修改单, 2019) not applied; not checked against the standard's own text.\n")
        f.write("# section = the 门类 letter of each class. Regenerate: scripts/gen-reference.py\n")
        f.write("code,section,name\n")
        for c, s, n in industries(js):
            f.write(f"{c},{s},{n}\n")


if __name__ == "__main__":
    main()
