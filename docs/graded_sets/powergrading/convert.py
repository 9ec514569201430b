"""Convert the Powergrading-1.0 corpus (Basu, Jacobs & Vanderwende 2013) to items.jsonl.

Raw files are read straight out of two fetched git mirrors:
  * graded answers: malik-ali/generative-grading @ ccc31716 (file unchanged since that commit)
      src/rubricsampling/citizenshipRawData/studentanswers_grades_698.tsv  (original TSV layout)
  * answer key:     beingRD/CPSC5306-DataMiningProject @ bc87af15
      dataset/questions_answer_key.xlsx  (questions_answer_key.tsv imported into Excel)
Run: python3 convert.py   (writes items.jsonl next to this script)
"""
import csv, io, json, re, subprocess, sys, zipfile, collections
import xml.etree.ElementTree as ET
from pathlib import Path

ANS_GIT = "/work/.mirror/malik-ali+generative-grading/repo"
ANS_REV = "ccc31716b45515e8c6a1b4ffe6724e7303178f3f"
ANS_PATH = "src/rubricsampling/citizenshipRawData/studentanswers_grades_698.tsv"
KEY_GIT = "/work/.mirror/beingRD+CPSC5306-DataMiningProject/repo"
KEY_REV = "bc87af15c2b227ab479b3c07f40faebfa4bb4bcf"
KEY_PATH = "dataset/questions_answer_key.xlsx"
OUT = Path(__file__).resolve().parent / "items.jsonl"
NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"


def git_blob(gitdir, rev, path):
    return subprocess.run(["git", "--git-dir", gitdir, "show", f"{rev}:{path}"],
                          check=True, capture_output=True).stdout


def xlsx_rows(data):
    """Minimal reader for the first worksheet of an .xlsx: list of rows (lists of str)."""
    z = zipfile.ZipFile(io.BytesIO(data))
    shared = []
    if "xl/sharedStrings.xml" in z.namelist():
        for si in ET.fromstring(z.read("xl/sharedStrings.xml")).iter(NS + "si"):
            shared.append("".join(t.text or "" for t in si.iter(NS + "t")))
    rows = []
    for row in ET.fromstring(z.read("xl/worksheets/sheet1.xml")).iter(NS + "row"):
        cells = {}
        for c in row.iter(NS + "c"):
            col = re.match(r"[A-Z]+", c.get("r")).group()
            idx = 0
            for ch in col:
                idx = idx * 26 + (ord(ch) - 64)
            v = c.find(NS + "v")
            if c.get("t") == "s":
                val = shared[int(v.text)]
            elif c.get("t") == "inlineStr":
                val = "".join(t.text or "" for t in c.iter(NS + "t"))
            else:
                val = v.text if v is not None else ""
            cells[idx - 1] = val
        rows.append([cells.get(i, "") for i in range(max(cells) + 1)] if cells else [])
    return rows


def main():
    # answer key: columns Q#, Question, Answers (further acceptable answers spill into later columns)
    key_rows = xlsx_rows(git_blob(KEY_GIT, KEY_REV, KEY_PATH))
    assert key_rows[0][:3] == ["Q#", "Question", "Answers"], key_rows[0]
    key = {}
    for r in key_rows[1:]:
        if not r or not r[0].strip():
            continue
        refs = [x.strip() for x in r[2:] if x.strip()]
        key[int(float(r[0]))] = (r[1].strip(), refs)
    assert sorted(key) == list(range(1, 21)), sorted(key)

    text = git_blob(ANS_GIT, ANS_REV, ANS_PATH).decode("utf-8")
    # QUOTE_NONE: the file does not quote fields; a few answers contain literal double quotes
    rows = list(csv.DictReader(io.StringIO(text, newline=""), delimiter="\t", quoting=csv.QUOTE_NONE))
    assert len(rows) == 698 * 20, len(rows)

    items, skipped = [], collections.Counter()
    for r in rows:
        qn = int(r["Q#"])
        grades = [int(r[g]) for g in ("G1", "G2", "G3")]
        if grades == [-1, -1, -1]:          # question never graded (the corpus grades only 10 of 20)
            skipped["ungraded (-1,-1,-1)"] += 1
            continue
        assert all(g in (0, 1) for g in grades), r
        question, refs = key[qn]
        items.append({
            "id": f"powergrading-{r['student']}-q{qn:02d}",
            "question": question,
            "reference_answer": " | ".join(refs),
            "reference_answers_all": [{"category": None, "id": f"pg_q{qn:02d}-a{i+1}", "text": t}
                                      for i, t in enumerate(refs)],
            "answer": r["answer"],
            "human_scores": grades,
            "human_mean": sum(grades) / 3,
            "scale": [0, 1],
            "source": f"github:malik-ali/generative-grading@{ANS_REV}:{ANS_PATH} (answers, grades); "
                      f"github:beingRD/CPSC5306-DataMiningProject@{KEY_REV}:{KEY_PATH} (question, answer key)",
            "licence": "MSR licence agreement for the Powergrading-1.0 corpus (research / non-commercial use; "
                       "see README.md)",
            "corpus": "powergrading",
            "test_set": "all",
            "question_id": f"pg_q{qn:02d}",
            "student_id": r["student"],
            "label_majority": int(sum(grades) >= 2),
        })
    with open(OUT, "w", encoding="utf-8") as f:
        for it in items:
            f.write(json.dumps(it, ensure_ascii=False) + "\n")
    print(f"wrote {len(items)} items to {OUT}; skipped: {dict(skipped)}", file=sys.stderr)


if __name__ == "__main__":
    main()
