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

// Checkboxes are only sent when ticked, so each carries its question's index; keep them in order.
function renumber() {
  document.querySelectorAll("#questions > li").forEach((item, index) => {
    item.querySelector('input[name="q_example"]').value = String(index);
  });
}

const add = document.getElementById("add-question");
if (add) {
  add.addEventListener("click", () => {
    const list = document.getElementById("questions");
    const item = list.lastElementChild.cloneNode(true);
    item.querySelectorAll("textarea").forEach((t) => { t.value = ""; });
    item.querySelector('input[name="q_max_follow_ups"]').value = "1";
    item.querySelector('input[name="q_example"]').checked = false;
    list.append(item);
    renumber();
    item.querySelector("textarea").focus();
  });
}
