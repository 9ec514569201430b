// LLM assessment: send chat messages, save the answer as it is written, submit it.
(function () {
  const urls = JSON.parse(document.getElementById("assessment-config").textContent);
  const log = document.getElementById("chat-log");
  const input = document.getElementById("chat-input");
  const send = document.getElementById("chat-send");
  const status = document.getElementById("chat-status");
  const box = document.getElementById("deliverable");
  const draftStatus = document.getElementById("draft-status");
  const submitError = document.getElementById("submit-error");
  const names = { candidate: "You", assistant: "Assistant", notice: "Notice" };

  function show(turn) {
    const li = document.createElement("li");
    li.className = "turn " + turn.role;
    const who = document.createElement("span");
    who.className = "who";
    who.textContent = names[turn.role] || turn.role;
    const text = document.createElement("span");
    text.className = "text";
    text.textContent = turn.text;
    li.append(who, " ", text);
    log.append(li);
    log.scrollTop = log.scrollHeight;
  }

  async function post(url, text) {
    const response = await fetch(url, {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ text }),
    });
    const body = response.status === 204 ? {} : await response.json().catch(() => ({}));
    return { ok: response.ok, status: response.status, body };
  }

  document.getElementById("chat-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    send.disabled = true;
    status.textContent = "The assistant is writing…";
    try {
      const { ok, body } = await post(urls.chat, text);
      for (const turn of body.turns || []) show(turn);
      if (ok) input.value = "";
      status.textContent = ok ? "" : (body.error || "Something went wrong. Please try again.");
      if (body.next) window.location = body.next;
    } catch (err) {
      status.textContent = "You seem to be offline. Your message was not sent: try again.";
    } finally {
      send.disabled = false;
    }
  });

  let timer = null;
  box.addEventListener("input", () => {
    clearTimeout(timer);
    draftStatus.textContent = "";
    timer = setTimeout(async () => {
      try {
        const { ok } = await post(urls.draft, box.value);
        draftStatus.textContent = ok ? "Saved." : "Not saved yet.";
      } catch (err) {
        draftStatus.textContent = "Not saved: you seem to be offline.";
      }
    }, 800);
  });

  document.getElementById("submit-deliverable").addEventListener("click", async () => {
    submitError.textContent = "";
    clearTimeout(timer);
    const { ok, body } = await post(urls.submit, box.value);
    if (ok || body.next) { window.location = body.next || urls.next; return; }
    submitError.textContent = body.error || "Your answer could not be submitted. Please try again.";
  });
})();
