"""Convert DT-Grade v1.0 (Banjade et al., BEA 2016) to items.jsonl.

Raw file is read straight out of the fetched git mirror of gg53orr/evaluator
(data/grade_data.xml, added in commit c69b5c8b and unchanged at HEAD 00352fad).
Run: python3 convert.py   (writes items.jsonl next to this script)
"""
import json, re, subprocess, sys, collections
import xml.etree.ElementTree as ET
from pathlib import Path

GIT = "/work/.mirror/gg53orr+evaluator/repo"
REV = "c69b5c8bfc9c4a97a3621281f4e2012d1f81b1c8"
PATH = "data/grade_data.xml"
OUT = Path(__file__).resolve().parent / "items.jsonl"
LABELS = ["correct", "correct_but_incomplete", "contradictory", "incorrect"]
TO_3WAY = {"correct": "correct", "contradictory": "contradictory",
           "correct_but_incomplete": "incorrect", "incorrect": "incorrect"}


def parse_label(s):
    """'correct(0)|correct_but_incomplete(1)|...' -> list of the names marked (1)."""
    marks = dict(re.fullmatch(r"(\w+)\((\d*)\)", part).groups() for part in s.split("|"))
    assert list(marks) == LABELS, s
    return [name for name in LABELS if marks[name] == "1"]


def text(el):
    return (el.text or "").strip()


def main():
    xml = subprocess.run(["git", "--git-dir", GIT, "show", f"{REV}:{PATH}"],
                         check=True, capture_output=True).stdout
    root = ET.fromstring(xml)
    qids, items, notes = {}, [], collections.Counter()
    for inst in root.findall("Instance"):
        iid = inst.get("ID")
        meta = inst.find("MetaInfo").attrib
        problem, question = text(inst.find("ProblemDescription")), text(inst.find("Question"))
        ann = inst.find("Annotation")
        marked = parse_label(ann.get("Label"))
        assert marked, (iid, ann.get("Label"))
        if len(marked) > 1:
            notes["two labels marked"] += 1
        if re.search(r"\(\)", ann.get("Label")):
            notes["a label slot left empty ()"] += 1
        label_4way = "|".join(marked)
        correct = marked == ["correct"]
        refs = []
        for line in text(inst.find("ReferenceAnswers")).splitlines():
            m = re.match(r"\s*(\d+):\s*(.*\S)\s*$", line)
            if m:
                refs.append(m.group(2))
            else:
                assert not line.strip(), (iid, line)
        # question id: TaskID without the '.sh' suffix (same problem appears with and without it)
        # plus the order of first appearance of the question text within that problem
        task = re.sub(r"\.sh$", "", meta["TaskID"])
        key = (task, problem, question)
        if key not in qids:
            n = sum(1 for k in qids if k[0] == task) + 1
            qids[key] = f"{task}_q{n}"
        add = ann.find("AdditionalAnnotation").attrib
        comm = ann.find("Comments")
        items.append({
            "id": f"dtgrade-{iid}",
            "question": f"{problem} {question}",
            "reference_answer": " | ".join(refs),
            "reference_answers_all": [{"category": None, "id": f"{qids[key]}-a{i+1}", "text": t}
                                      for i, t in enumerate(refs)],
            "answer": text(inst.find("Answer")),
            "human_scores": [1 if correct else 0],
            "human_mean": 1.0 if correct else 0.0,
            "scale": [0, 1],
            "source": f"github:gg53orr/evaluator@{REV}:{PATH} (copy of DT-Grade v1.0 grade_data.xml)",
            "licence": "none stated in the copy; distributed by the authors at deeptutor.memphis.edu "
                       "(see README.md)",
            "corpus": "dt_grade",
            "test_set": "all",
            "question_id": qids[key],
            "label_4way": label_4way,
            "label_3way": TO_3WAY[marked[0]] if len(marked) == 1 else "incorrect",
            "problem_description": problem,
            "question_only": question,
            "task_id_raw": meta["TaskID"],
            "student_id": meta["StudentID"],
            "context_required": add.get("ContextRequired"),
            "extra_info_in_answer": add.get("ExtraInfoInAnswer"),
            "annotator_comment": (comm.text or "").strip() if comm is not None else "",
        })
    with open(OUT, "w", encoding="utf-8") as f:
        for it in items:
            f.write(json.dumps(it, ensure_ascii=False) + "\n")
    print(f"wrote {len(items)} items, {len(qids)} questions; notes: {dict(notes)}", file=sys.stderr)


if __name__ == "__main__":
    main()
