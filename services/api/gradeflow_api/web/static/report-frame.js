// The grading page's side of the report viewer (staff/rubric_grade.html): it fetches the PDF with the TA's
// session and posts the bytes into the sandboxed viewer frame, which cannot fetch anything itself and has no
// cookie; the frame answers with the page count or an error, shown in #report-status as plain text.
(function () {
  "use strict";
  const frame = document.getElementById("report-frame");
  const status = document.getElementById("report-status");
  if (!frame || !frame.dataset.pdf || !frame.dataset.viewer) return;

  function say(text) {
    if (status) status.textContent = text;
  }

  const pdf = fetch(frame.dataset.pdf, { credentials: "same-origin" }).then((response) => {
    if (!response.ok) throw new Error(`the server answered ${response.status}`);
    return response.arrayBuffer();
  });
  pdf.catch(() => {}); // reported when the frame asks for it

  let sent = false;
  window.addEventListener("message", (event) => {
    // Only our frame, whose origin is opaque ("null"); what it says is data, shown as text.
    if (event.source !== frame.contentWindow || event.origin !== "null") return;
    const message = event.data || {};
    if (message.type === "ready" && !sent) {
      sent = true; // "*": an opaque origin has no name to target; the frame is our viewer, set just below
      pdf.then((bytes) => frame.contentWindow.postMessage({ type: "pdf", pdf: bytes }, "*", [bytes]),
               (error) => say(`The report could not be loaded (${error.message}); download the PDF instead.`));
    } else if (message.type === "shown") {
      const pages = Number(message.pages) || 0;
      const shown = Number(message.shown) || 0;
      say(pages === shown ? `${pages} ${pages === 1 ? "page" : "pages"}.`
                          : `The first ${shown} of ${pages} pages are shown; download the PDF for the rest.`);
    } else if (message.type === "error") {
      say(`The report could not be shown here (${String(message.message || "").slice(0, 200)}); download the PDF instead.`);
    }
  });
  frame.src = frame.dataset.viewer; // only now, so the frame's "ready" cannot come before this listener
})();
