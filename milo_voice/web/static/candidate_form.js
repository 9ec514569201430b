// Form stages: hide the questions a skip rule skips as the candidate answers (the server applies the
// same rules on submit, so the form works without this script too).
(function () {
  const form = document.getElementById("stage-form");
  if (!form) return;
  const fields = Array.from(form.querySelectorAll(".field"));
  function picked(field) {
    return Array.from(field.querySelectorAll("input:checked")).map((i) => i.value.toLowerCase());
  }
  function apply() {
    let skipTo = null;
    let ended = false;
    for (const field of fields) {
      if (ended || (skipTo && field.dataset.id !== skipTo)) { field.hidden = true; continue; }
      skipTo = null;
      field.hidden = false;
      const rules = JSON.parse(field.dataset.skip || "[]");
      const chosen = picked(field);
      for (const rule of rules) {
        if (chosen.includes(rule.when.toLowerCase())) {
          if (rule.to === "end") ended = true; else skipTo = rule.to;
          break;
        }
      }
    }
  }
  form.addEventListener("change", apply);
  apply();
})();
