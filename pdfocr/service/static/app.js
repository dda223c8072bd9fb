// The page for people: pick or drop scans, send them as one job, watch its pages, download
// the searchable PDF. Plain JavaScript, served by the service; nothing comes from elsewhere.
"use strict";

const form = document.getElementById("job-form");
const picker = document.getElementById("files");
const zone = document.getElementById("drop-zone");
const chosenList = document.getElementById("chosen");
const convertButton = document.getElementById("convert");
const message = document.getElementById("form-message");
const tokenInput = document.getElementById("token");
let chosen = [];

tokenInput.value = sessionStorage.getItem("pdfocr-token") || "";
tokenInput.addEventListener("change", () => sessionStorage.setItem("pdfocr-token", tokenInput.value));

function authHeaders() {
  const token = tokenInput.value.trim();
  return token ? { Authorization: `Bearer ${token}` } : {};
}

function showChosen() {
  chosenList.replaceChildren(...chosen.map((file) => {
    const item = document.createElement("li");
    item.textContent = `${file.name} (${Math.ceil(file.size / 1024)} KB)`;
    return item;
  }));
  convertButton.disabled = chosen.length === 0;
}

function add(files) {
  chosen = chosen.concat(Array.from(files));
  showChosen();
}

picker.addEventListener("change", () => { add(picker.files); picker.value = ""; });
zone.addEventListener("keydown", (event) => {
  if (event.key === "Enter" || event.key === " ") { event.preventDefault(); picker.click(); }
});
for (const name of ["dragenter", "dragover"]) {
  zone.addEventListener(name, (event) => { event.preventDefault(); zone.classList.add("over"); });
}
for (const name of ["dragleave", "drop"]) {
  zone.addEventListener(name, () => zone.classList.remove("over"));
}
zone.addEventListener("drop", (event) => {
  event.preventDefault();
  if (event.dataTransfer && event.dataTransfer.files.length) add(event.dataTransfer.files);
});

async function problemText(response) {
  try {
    const problem = await response.json();
    return [problem.title, problem.detail].filter(Boolean).join(": ");
  } catch {
    return `${response.status} ${response.statusText}`;
  }
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  if (chosen.length === 0) return;
  const body = new FormData();
  for (const file of chosen) body.append("files", file, file.name);
  for (const field of ["languages", "output_type"]) body.append(field, form.elements[field].value);
  for (const field of ["rotate_pages", "deskew"]) {
    if (form.elements[field].checked) body.append(field, "true");
  }
  const name = chosen.length === 1 ? chosen[0].name : `${chosen[0].name} and ${chosen.length - 1} more`;
  convertButton.disabled = true;
  message.className = "";
  message.textContent = "Sending…";
  try {
    const response = await fetch("/v1/jobs", { method: "POST", headers: authHeaders(), body });
    if (!response.ok) {
      message.className = "error";
      message.textContent = await problemText(response);
      convertButton.disabled = false;
      return;
    }
    message.textContent = "";
    chosen = [];
    showChosen();
    follow(await response.json(), name);
  } catch (error) {
    message.className = "error";
    message.textContent = `Could not reach the service: ${error}`;
    convertButton.disabled = false;
  }
});

function follow(job, name) {
  const item = document.getElementById("job-template").content.firstElementChild.cloneNode(true);
  item.dataset.job = job.id;
  item.querySelector(".job-name").textContent = name;
  const bar = item.querySelector("progress");
  const state = item.querySelector(".job-state");
  const download = item.querySelector(".job-download");
  const cancel = item.querySelector(".job-cancel");
  document.getElementById("jobs").prepend(item);

  cancel.addEventListener("click", async () => {
    await fetch(job.links.self, { method: "DELETE", headers: authHeaders() });
  });

  async function poll() {
    const response = await fetch(job.links.self, { headers: authHeaders() });
    if (!response.ok) {
      state.textContent = await problemText(response);
      state.className = "job-state failed";
      cancel.hidden = true;
      return;
    }
    const status = await response.json();
    bar.max = Math.max(status.pages.total, 1);
    bar.value = status.pages.done;
    state.textContent = `${status.state}: ${status.pages.done} of ${status.pages.total} pages`;
    state.className = `job-state ${status.state}`;
    if (status.state === "succeeded") {
      cancel.hidden = true;
      const pdf = await fetch(status.links.pdf, { headers: authHeaders() });
      download.href = URL.createObjectURL(await pdf.blob());
      download.download = name.replace(/\.[^.]*$/, "") + "-searchable.pdf";
      download.hidden = false;
    } else if (status.state === "failed") {
      cancel.hidden = true;
      state.textContent = `failed: ${status.problem ? status.problem.detail || status.problem.title : ""}`;
    } else if (status.state === "cancelled") {
      cancel.hidden = true;
    } else {
      setTimeout(poll, 500);
    }
  }
  poll();
}

// -- search: the caller's converted pages, a hit shown on its page with its words lit --

const searchForm = document.getElementById("search-form");
const searchMessage = document.getElementById("search-message");
const hitList = document.getElementById("hits");
const hitView = document.getElementById("hit-view");
const hitPage = document.getElementById("hit-page");
const hitImage = document.getElementById("hit-image");
let shownImage = null;
let latestShow = 0;
let latestSearch = 0;  // a hit clicked after another wins, whichever image arrives first

// "the [signed] contract" as text nodes and <mark>s (never as HTML: it is the page's text).
function markedSnippet(snippet) {
  const parts = [];
  let rest = snippet;
  for (let match = /\[([^\]]*)\]/.exec(rest); match; match = /\[([^\]]*)\]/.exec(rest)) {
    parts.push(document.createTextNode(rest.slice(0, match.index)));
    const mark = document.createElement("mark");
    mark.textContent = match[1];
    parts.push(mark);
    rest = rest.slice(match.index + match[0].length);
  }
  parts.push(document.createTextNode(rest));
  return parts;
}

async function show(hit, button) {
  for (const other of hitList.querySelectorAll("button")) other.removeAttribute("aria-current");
  button.setAttribute("aria-current", "true");
  const mine = ++latestShow;
  const response = await fetch(`${hit.links.image}?width=1000`, { headers: authHeaders() });
  if (mine !== latestShow) return;
  if (!response.ok) {
    searchMessage.className = "error";
    searchMessage.textContent = await problemText(response);
    return;
  }
  const image = await response.blob();
  if (mine !== latestShow) return;
  if (shownImage) URL.revokeObjectURL(shownImage);
  shownImage = URL.createObjectURL(image);
  hitImage.src = shownImage;
  hitImage.alt = `Page ${hit.page} of ${hit.sources.join(", ")}`;
  document.getElementById("hit-caption").textContent = `${hit.sources.join(", ")}, page ${hit.page}`;
  // Boxes are in PDF points from the bottom left; the image fills the box's width.
  const [width, height] = hit.page_size;
  for (const old of hitPage.querySelectorAll(".highlight")) old.remove();
  for (const [left, bottom, right, top] of hit.boxes) {
    const lit = document.createElement("span");
    lit.className = "highlight";
    lit.style.left = `${(left / width) * 100}%`;
    lit.style.top = `${((height - top) / height) * 100}%`;
    lit.style.width = `${((right - left) / width) * 100}%`;
    lit.style.height = `${((top - bottom) / height) * 100}%`;
    hitPage.append(lit);
  }
  hitView.hidden = false;
}

searchForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const query = searchForm.elements.q.value.trim();
  if (!query) return;
  searchMessage.className = "";
  searchMessage.textContent = "Searching…";
  const mine = ++latestSearch;
  const response = await fetch(`/v1/search?${new URLSearchParams({ q: query, limit: "20" })}`, {
    headers: authHeaders(),
  });
  if (mine !== latestSearch) return;  // a later search answers instead
  if (!response.ok) {
    searchMessage.className = "error";
    searchMessage.textContent = await problemText(response);
    return;
  }
  const found = await response.json();
  searchMessage.textContent = found.hits.length ? "" : "No page holds that.";
  hitView.hidden = true;
  hitList.replaceChildren(...found.hits.map((hit) => {
    const item = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.className = "hit";
    const where = document.createElement("strong");
    where.textContent = `${hit.sources.join(", ")}, page ${hit.page}`;
    const snippet = document.createElement("span");
    snippet.className = "snippet";
    snippet.append(...markedSnippet(hit.snippet));
    button.append(where, snippet);
    button.addEventListener("click", () => show(hit, button));
    item.append(button);
    return item;
  }));
});

fetch("/v1/service").then((response) => response.json()).then((service) => {
  document.getElementById("token-row").hidden = !service.auth;
  document.getElementById("search-section").hidden = !service.search;
}).catch(() => {});
