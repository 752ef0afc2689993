// The report viewer (/report-viewer): draws the PDF that the grading page posts in, with the vendored pdf.js.
//
// It runs sandboxed without allow-same-origin (an opaque origin, self.origin === "null") under a CSP with no
// connect-src: it has no cookie, cannot touch the grading page and fetches nothing. pdf.js parses in a worker
// (a blob that imports pdf.worker.min.mjs), runs no script the PDF carries (no scripting build is
// shipped), renders no XFA form and no annotation layer: pages are drawn onto canvases only, lazily, the
// first MAX_PAGES of them. docs/web.md, "Safety of what is shown".
import { AnnotationMode, GlobalWorkerOptions, VerbosityLevel, getDocument } from "./vendor/pdfjs/pdf.min.mjs";

const MAX_PAGES = 60;
const MAX_WIDTH = 1100; // CSS pixels: wider pages are scaled down to this
const WORKER = new URL("./vendor/pdfjs/pdf.worker.min.mjs", import.meta.url).href;
const status = document.getElementById("viewer-status");
const pagesBox = document.getElementById("pages");
const cap = document.getElementById("viewer-cap");
let received = false;

/** Tell the grading page (our own origin: location.origin is the URL's, unlike self.origin). */
function tell(message) {
  if (window.parent !== window) window.parent.postMessage(message, location.origin);
}

/** pdf.js's worker, started here: a classic worker from a blob (Chromium refuses a module worker to an opaque
 * origin) that imports the vendored worker module, a CORS request (see web/static_files.py). pdf.js sends its
 * first message as soon as it has the port, so the port is handed over only once the worker says "ready". */
function startWorker() {
  const source = `import(${JSON.stringify(WORKER)}).catch(() => postMessage({ failed: true }));`;
  const url = URL.createObjectURL(new Blob([source], { type: "text/javascript" }));
  const worker = new Worker(url, { name: "pdfjs" });
  return new Promise((resolve, reject) => {
    const refuse = () => reject(new Error("the PDF reader did not start"));
    worker.addEventListener("error", refuse, { once: true });
    worker.addEventListener("message", (event) => {
      URL.revokeObjectURL(url);
      worker.removeEventListener("error", refuse);
      if (event.data && event.data.failed === true) refuse();
      else resolve(worker);
    }, { once: true });
  });
}

async function draw(page, canvas) {
  const natural = page.getViewport({ scale: 1 });
  const width = Math.min(MAX_WIDTH, Math.max(200, pagesBox.clientWidth - 16));
  const ratio = window.devicePixelRatio || 1;
  const viewport = page.getViewport({ scale: (width / natural.width) * ratio });
  canvas.width = Math.floor(viewport.width);
  canvas.height = Math.floor(viewport.height);
  canvas.style.width = `${width}px`;
  canvas.style.height = `${Math.floor(viewport.height / ratio)}px`;
  await page.render({ canvas, viewport, annotationMode: AnnotationMode.ENABLE }).promise;
  canvas.dataset.rendered = "1";
  page.cleanup();
}

/** A placeholder canvas per page, sized like the page; each is drawn when it comes near the frame's view. */
async function lay(pdf, count) {
  const width = Math.min(MAX_WIDTH, Math.max(200, pagesBox.clientWidth - 16));
  const observer = new IntersectionObserver((entries) => {
    for (const entry of entries) {
      if (!entry.isIntersecting) continue;
      observer.unobserve(entry.target);
      const number = Number(entry.target.dataset.page);
      pdf.getPage(number).then((page) => draw(page, entry.target)).catch((error) => failed(error, number));
    }
  }, { root: document, rootMargin: "150% 0px" }); // the frame's own view: a cross-origin frame's margin is ignored
  for (let number = 1; number <= count; number += 1) {
    const natural = (await pdf.getPage(number)).getViewport({ scale: 1 });
    const canvas = document.createElement("canvas");
    canvas.dataset.page = String(number);
    canvas.setAttribute("aria-label", `Page ${number}`);
    canvas.style.width = `${width}px`;
    canvas.style.height = `${Math.floor((width * natural.height) / natural.width)}px`;
    pagesBox.append(canvas);
    observer.observe(canvas);
  }
}

function failed(error, number) {
  const name = error && error.name === "PasswordException" ? "the PDF is password-protected" : "it could not be read";
  const where = number ? `page ${number}: ` : "";
  status.textContent = `The report could not be shown here (${where}${name}). Download the PDF instead.`;
  tell({ type: "error", message: `${where}${name}` });
}

async function show(bytes) {
  GlobalWorkerOptions.workerPort = await startWorker();
  // isEvalSupported: pdf.js 5 has no eval left (and the CSP refuses it); kept so an older copy stays safe too.
  const task = getDocument({ data: bytes, enableXfa: false, isEvalSupported: false, stopAtErrors: false,
                             verbosity: VerbosityLevel.ERRORS });
  const pdf = await task.promise;
  const count = Math.min(pdf.numPages, MAX_PAGES);
  status.textContent = "";
  if (pdf.numPages > count) {
    cap.textContent = `Only the first ${count} of ${pdf.numPages} pages are shown here; download the PDF for the rest.`;
    cap.hidden = false;
  }
  await lay(pdf, count);
  document.body.dataset.pages = String(pdf.numPages);
  tell({ type: "shown", pages: pdf.numPages, shown: count });
}

window.addEventListener("message", (event) => {
  // Only the page that framed us, from our own origin, and only once.
  if (received || event.source !== window.parent || event.origin !== location.origin) return;
  const message = event.data;
  if (!message || message.type !== "pdf" || !(message.pdf instanceof ArrayBuffer)) return;
  received = true;
  show(new Uint8Array(message.pdf)).catch((error) => failed(error, 0));
});
tell({ type: "ready" });
