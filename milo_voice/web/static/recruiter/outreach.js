// The template editor's live preview: as the recruiter types, the subject and text are posted
// (debounced) to the preview endpoint, which renders them on the sample candidate. Its answer is put
// in with textContent, and the email's HTML into the sandboxed iframe's srcdoc: never into the page.
"use strict";

(() => {
  const form = document.querySelector("form[data-preview]");
  if (!form) return;
  const error = document.getElementById("preview-error");
  const subject = document.getElementById("preview-subject");
  const text = document.getElementById("preview-text");
  const frame = document.getElementById("preview-html");
  const length = document.getElementById("preview-length");
  let timer = null;
  let asked = 0;

  function show(data) {
    error.hidden = !data.error;
    error.textContent = data.error || "";
    if (data.error) return; // keep the last good preview beside the reason
    if (subject) subject.textContent = data.subject;
    if (text) text.textContent = data.text;
    if (frame) frame.srcdoc = data.html;
    if (length) length.textContent = String(data.text.length);
  }

  async function refresh() {
    const fields = new URLSearchParams({ kind: form.dataset.kind, channel: form.dataset.channel });
    for (const name of ["csrf_token", "subject", "body"]) {
      const field = form.elements.namedItem(name);
      if (field) fields.set(name, field.value);
    }
    const mine = ++asked;
    try {
      const response = await fetch(form.dataset.preview, {
        method: "POST", body: fields, credentials: "same-origin", headers: { Accept: "application/json" },
      });
      const data = await response.json();
      if (mine === asked) show(data);
    } catch (_) {
      // offline or signed out: the last preview stays; saving still checks the template
    }
  }

  form.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(refresh, 300);
  });
})();
