// Runs before the page's main module and apart from it, so that a script
// that fails to load or to parse, or an error nothing caught, is shown where
// errors go rather than leaving a page that silently does nothing. The
// failure is also marked on <body>, where the browser test looks for it.

import { tFor, initialLanguage } from "./i18n.js";

function fail(text) {
  const body = document.body;
  if (!body) return;
  const started = body.dataset.ready === "true";
  body.dataset.failed = text;
  const box = document.getElementById("errors");
  if (!box) return;
  const lang = document.documentElement.lang.startsWith("zh") || (!started && initialLanguage() === "zh") ? "zh" : "en";
  const p = document.createElement("p");
  p.textContent = tFor(lang, started ? "errUnexpected" : "errStart", { message: text });
  box.querySelector(".errors-body").replaceChildren(p);
  box.hidden = false;
}

window.addEventListener(
  "error",
  (e) => {
    if (e.target && e.target !== window && e.target.src) fail(`${e.target.src}: ${e.type}`);
    else fail(e.message || "script error");
  },
  true,
);
window.addEventListener("unhandledrejection", (e) => fail(String((e.reason && e.reason.message) || e.reason)));
