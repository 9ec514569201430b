// Keeps the recording and the transcript in sync: the line being played is highlighted and
// scrolled into view; clicking (or pressing Enter on) a line, an answer or a quote seeks there.
"use strict";

const player = document.getElementById("player");
const lines = Array.from(document.querySelectorAll("#transcript .line"));
let current = null;

function seek(seconds) {
  if (!player) return;
  player.currentTime = seconds;
  player.play().catch(() => {});
}

function highlight() {
  const t = player.currentTime;
  // The last line that started at or before t: interviewer and candidate lines never overlap.
  let found = null;
  for (const line of lines) {
    if (Number(line.dataset.start) <= t + 0.05) found = line; else break;
  }
  if (found && t > Number(found.dataset.end) + 1.0) found = null;  // in a silence between lines
  if (found === current) return;
  if (current) { current.classList.remove("current"); current.removeAttribute("aria-current"); }
  current = found;
  if (current) {
    current.classList.add("current");
    current.setAttribute("aria-current", "true");
    current.scrollIntoView({ block: "nearest" });
  }
}

if (player) {
  player.addEventListener("timeupdate", highlight);
  player.addEventListener("seeked", highlight);
  const target = (event) => event.target.closest("[data-start]");
  document.addEventListener("click", (event) => {
    const el = target(event);
    if (el && el.tagName !== "AUDIO") { event.preventDefault(); seek(Number(el.dataset.start)); }
  });
  document.addEventListener("keydown", (event) => {
    const el = target(event);
    if (el && event.key === "Enter") { event.preventDefault(); seek(Number(el.dataset.start)); }
  });
}
