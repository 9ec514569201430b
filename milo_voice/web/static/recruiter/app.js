// Small helpers for the recruiter pages: copy buttons, select-all, the question editor.
"use strict";

document.addEventListener("click", async (event) => {
  const copy = event.target.closest("[data-copy]");
  if (copy) {
    const field = document.querySelector(copy.dataset.copy);
    field.select();
    try { await navigator.clipboard.writeText(field.value); } catch (_) { document.execCommand("copy"); }
    copy.textContent = "Copied";
    copy.dataset.copied = field.value;
  }
  const move = event.target.closest("[data-move]");
  if (move) {
    const item = move.closest("li");
    const sibling = move.dataset.move === "-1" ? item.previousElementSibling : item.nextElementSibling;
    if (sibling) { move.dataset.move === "-1" ? sibling.before(item) : sibling.after(item); }
    renumber();
  }
  const addCriterion = event.target.closest("[data-add-criterion]");
  if (addCriterion) {
    const rows = addCriterion.closest(".rubric").querySelector(".criteria");
    const row = rows.lastElementChild.cloneNode(true);
    clearCriterion(row);
    rows.append(row);
    row.querySelector('input[name="c_name"]').focus();
  }
  const removeCriterion = event.target.closest("[data-remove-criterion]");
  if (removeCriterion) {
    const row = removeCriterion.closest(".criterion-row");
    if (row.parentElement.children.length > 1) row.remove(); else clearCriterion(row);
  }
  const remove = event.target.closest("[data-remove]");
  if (remove && document.querySelectorAll("#questions > li").length > 1) {
    remove.closest("li").remove();
    renumber();
  }
});

document.addEventListener("change", (event) => {
  const all = event.target.closest("[data-check-all]");
  if (all) {
    document.querySelectorAll(`input[name="${all.dataset.checkAll}"]`).forEach((box) => { box.checked = all.checked; });
  }
});

// Checkboxes are only sent when ticked, so each carries its question's index; so does every rubric
// row (`c_q`), which is how the server groups criteria by question. Keep them in order.
function renumber() {
  document.querySelectorAll("#questions > li").forEach((item, index) => {
    item.querySelector('input[name="q_example"]').value = String(index);
    item.querySelectorAll('input[name="c_q"]').forEach((mark) => { mark.value = String(index); });
  });
}

// An empty criterion row (blank rows are ignored by the server).
function clearCriterion(row) {
  row.querySelectorAll("input:not([type=hidden]), textarea").forEach((field) => { field.value = ""; });
  row.querySelector('input[name="c_weight"]').value = "1";
  row.querySelectorAll("select").forEach((select) => { select.selectedIndex = 0; });
}

const add = document.getElementById("add-question");
if (add) {
  add.addEventListener("click", () => {
    const list = document.getElementById("questions");
    const item = list.lastElementChild.cloneNode(true);
    item.querySelectorAll("textarea").forEach((t) => { t.value = ""; });
    item.querySelector('input[name="q_max_follow_ups"]').value = "1";
    item.querySelector('input[name="q_example"]').checked = false;
    item.querySelector('input[name="q_origin"]').value = "";  // a new question: its rubric starts at version 1
    const rows = item.querySelector(".criteria");
    while (rows.children.length > 2) rows.lastElementChild.remove();
    rows.querySelectorAll(".criterion-row").forEach(clearCriterion);
    item.querySelectorAll(".rubric-errors").forEach((errors) => errors.remove());
    item.querySelector(".rubric").open = false;
    item.querySelector(".rubric summary .muted").textContent = "(not scored)";
    list.append(item);
    renumber();
    item.querySelector("textarea").focus();
  });
}
