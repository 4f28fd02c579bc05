// Trail console: small progressive enhancements. Every page works without this file.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  // Custom dates show only for the Custom range.
  const range = document.getElementById("range");
  const custom = document.getElementById("custom-dates");
  if (range && custom) {
    const sync = () => custom.classList.toggle("hidden", range.value !== "custom");
    range.addEventListener("change", sync);
    sync();
  }

  // "Show Trail's own events" applies at once.
  const showTrail = document.getElementById("show-trail");
  if (showTrail && showTrail.form) {
    showTrail.addEventListener("change", () => showTrail.form.requestSubmit());
  }

  // Load more appends the next page's rows in place instead of opening a new page.
  document.addEventListener("click", async (ev) => {
    const link = ev.target.closest("#load-more");
    if (!link) return;
    ev.preventDefault();
    link.setAttribute("aria-busy", "true");
    let resp;
    try {
      resp = await fetch(link.dataset.rows, { credentials: "same-origin" });
    } catch (_) {
      window.location = link.href;
      return;
    }
    // A session that ended redirects to the sign-in page: open the next page as a page.
    if (!resp.ok || resp.redirected || resp.headers.get("x-trail-rows") !== "1") {
      window.location = link.href;
      return;
    }
    const html = await resp.text();
    const tbody = document.getElementById("rows");
    const tmp = document.createElement("tbody");
    tmp.innerHTML = html;
    while (tmp.firstChild) tbody.appendChild(tmp.firstChild);
    const next = resp.headers.get("x-next-page");
    if (next) {
      link.href = next;
      link.dataset.rows = resp.headers.get("x-next-rows");
      link.removeAttribute("aria-busy");
    } else {
      link.parentElement.remove();
    }
  });
});
