// herald ui: the page. Everything from the network (names, file names,
// messages) reaches the DOM through textContent only, never as markup.

const $ = (id) => document.getElementById(id);

// el builds an element; string children become text nodes.
function el(tag, props = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === "class") e.className = v;
    else if (k === "on") for (const [ev, fn] of Object.entries(v)) e.addEventListener(ev, fn);
    else if (k in e && typeof v !== "string") e[k] = v;
    else e.setAttribute(k, v);
  }
  for (const c of children) if (c !== null && c !== undefined) e.append(c instanceof Node ? c : String(c));
  return e;
}

const state = { me: null, room: [], sends: [], inbox: [], channels: [], messages: new Map() };

function bytes(n) {
  const u = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
  return (i ? n.toFixed(1) : n) + " " + u[i];
}
const rate = (bps) => bps >= 1e9 ? (bps / 1e9).toFixed(2) + " Gbit/s" : (bps / 1e6).toFixed(1) + " Mbit/s";
const pct = (x) => (100 * x).toFixed(1) + "%";
const time = (t) => new Date(t).toLocaleTimeString();
const ago = (t) => { const s = Math.max(0, Math.round((Date.now() - new Date(t)) / 1000)); return s < 60 ? s + " s ago" : Math.round(s / 60) + " min ago"; };

function notice(text, isError = true) {
  const n = $("notice");
  n.textContent = text;
  n.className = isError ? "notice error" : "notice";
  n.hidden = false;
  clearTimeout(notice.timer);
  notice.timer = setTimeout(() => { n.hidden = true; }, 8000);
}

async function api(path, body) {
  const r = await fetch(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
  const text = await r.text();
  const data = text ? JSON.parse(text) : {};
  if (!r.ok) throw new Error(data.error || r.statusText);
  return data;
}

// ---- tabs (arrow keys move between them, as the ARIA pattern says)
const tabs = [...document.querySelectorAll('[role="tab"]')];
function showTab(tab, focus) {
  for (const t of tabs) {
    const on = t === tab;
    t.setAttribute("aria-selected", on);
    t.tabIndex = on ? 0 : -1;
    $(t.getAttribute("aria-controls")).hidden = !on;
  }
  if (focus) tab.focus();
  history.replaceState(null, "", "#" + tab.id.slice(4));
}
for (const t of tabs) {
  t.addEventListener("click", () => showTab(t, false));
  t.addEventListener("keydown", (e) => {
    const i = tabs.indexOf(t);
    const to = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: tabs.length - 1 }[e.key];
    if (to === undefined) return;
    e.preventDefault();
    showTab(tabs[(to + tabs.length) % tabs.length], true);
  });
}
window.addEventListener("hashchange", () => { const t = $("tab-" + location.hash.slice(1)); if (t) showTab(t, false); });
{ const t = $("tab-" + location.hash.slice(1)); if (t) showTab(t, false); }

// ---- trust dialog: the fingerprint to compare, read aloud
function askTrust(name, fp) {
  $("trust-name").textContent = name || "this peer";
  $("trust-name2").textContent = name || "its owner";
  $("trust-fp").textContent = fp;
  const d = $("trust-dialog");
  d.returnValue = "";
  d.onclose = async () => {
    if (d.returnValue !== "yes") return;
    try { await api("/api/trust", { fingerprint: fp, trusted: true }); notice("trusted " + (name || fp), false); }
    catch (e) { notice("trust: " + e.message); }
  };
  d.showModal();
}

// ---- Room
function renderMe() {
  const me = state.me;
  $("me-name").textContent = me.name;
  $("me-fp").textContent = me.fingerprint;
  $("board-fp").textContent = me.fingerprint;
  $("board-name").textContent = me.name;
  $("inbox-dir").textContent = me.dir;
  $("inbox-any").textContent = me.accept_any ? " and, for this session, from anyone" : "";
  document.title = "herald — " + me.name;
}

function renderRoom() {
  const tbody = $("room-table").tBodies[0];
  tbody.replaceChildren(...state.room.map((p) => {
    const runs = [p.receives && "receive", p.listens && "messages"].filter(Boolean).join(", ") || "—";
    let action;
    if (p.trust === "trusted") action = el("button", { type: "button", on: { click: async () => {
      try { await api("/api/trust", { fingerprint: p.fingerprint, trusted: false }); } catch (e) { notice(e.message); }
    } } }, "Untrust");
    else if (p.trust === "changed") action = el("span", { class: "warn" }, "key changed: may be an impostor");
    else action = el("button", { type: "button", on: { click: () => askTrust(p.name, p.fingerprint) } }, "Trust…");
    return el("tr", {},
      el("td", {}, p.name), el("td", {}, el("code", { class: "fp" }, p.fingerprint)),
      el("td", {}, el("span", { class: "trust " + p.trust }, p.trust)), el("td", {}, runs),
      el("td", { "data-seen": p.last_seen }, ago(p.last_seen)), el("td", {}, action));
  }));
  $("room-empty").hidden = state.room.length > 0;
  $("room-count").textContent = state.room.length ? "(" + state.room.length + ")" : "";
  renderPeerChoices();
}
setInterval(() => { for (const td of document.querySelectorAll("td[data-seen]")) td.textContent = ago(td.dataset.seen); }, 2000);

// ---- Channels
function renderChannels() {
  const chans = state.channels;
  for (const sel of [$("send-channel"), $("msg-channel")]) {
    const keep = sel.value;
    sel.replaceChildren(...chans.map((c) => el("option", { value: c.name }, "#" + c.name + (c.default ? " (default)" : ""))));
    sel.value = chans.some((c) => c.name === keep) ? keep : (chans.find((c) => c.default) || chans[0]).name;
  }
  const hist = $("hist-channel");
  const keep = hist.value;
  hist.replaceChildren(el("option", { value: "" }, "all"), ...chans.map((c) => el("option", { value: c.name }, "#" + c.name)));
  hist.value = keep;
  $("ch-table").tBodies[0].replaceChildren(...chans.map((c) => el("tr", {},
    el("td", {}, "#" + c.name), el("td", {}, c.default ? "yes" : ""),
    el("td", {}, c.open ? "open channel: signed but readable by anyone on the LAN" : "encrypted"),
    el("td", {}, c.open ? "" : el("span", {},
      el("button", { type: "button", on: { click: () => showCode(c.name, c.join_code) } }, "Show join code"), " ",
      c.default ? "" : el("button", { type: "button", on: { click: () => makeDefault(c.name) } }, "Make default"), " ",
      el("button", { type: "button", on: { click: () => leave(c.name) } }, "Leave"))))));
  updateSendTarget();
}

function showCode(name, code) {
  $("ch-code-name").textContent = "#" + name;
  $("ch-code-text").textContent = code;
  const qr = $("ch-code-qr");
  qr.onload = () => { qr.hidden = false; };
  qr.onerror = () => { qr.hidden = true; };
  qr.src = "/api/channel/qr?name=" + encodeURIComponent(name);
  $("ch-code").hidden = false;
  $("ch-code-copy").focus();
}
$("ch-code-hide").onclick = () => { $("ch-code").hidden = true; };
$("ch-code-copy").onclick = async () => {
  try { await navigator.clipboard.writeText($("ch-code-text").textContent); notice("join code copied", false); }
  catch { getSelection().selectAllChildren($("ch-code-text")); notice("select and copy the code (clipboard not available)"); }
};
async function makeDefault(name) {
  try { await api("/api/channel", { action: "default", name }); notice("#" + name + " is now the default channel", false); } catch (e) { notice(e.message); }
}
async function leave(name) {
  if (!confirm("Leave #" + name + "? Its secret is forgotten; you need the join code again to come back.")) return;
  try { await api("/api/channel", { action: "leave", name }); notice("left #" + name, false); } catch (e) { notice(e.message); }
}
$("ch-new").onsubmit = async (e) => {
  e.preventDefault();
  try {
    const r = await api("/api/channel", { action: "new", name: $("ch-new-name").value.trim() });
    showCode(r.name, r.join_code);
    $("ch-new-name").value = "";
  } catch (err) { notice(err.message); }
};
$("ch-join").onsubmit = async (e) => {
  e.preventDefault();
  const pass = $("ch-join-pass").value;
  const body = pass ? { action: "join", name: $("ch-join-name").value.trim(), passphrase: pass } : { action: "join", code: $("ch-join-code").value.trim() };
  try { const r = await api("/api/channel", body); notice("joined #" + r.name, false); e.target.reset(); } catch (err) { notice(err.message); }
};

// ---- Send
let picked = []; // {file, path}
function setPicked(list) {
  picked = list;
  $("picked").hidden = picked.length === 0;
  const total = picked.reduce((n, p) => n + p.file.size, 0);
  $("picked-summary").textContent = picked.length + " file(s), " + bytes(total);
  const tops = [...new Set(picked.map((p) => p.path.split("/")[0]))];
  $("picked-list").replaceChildren(...tops.slice(0, 50).map((t) => el("li", {}, t + (picked.some((p) => p.path.startsWith(t + "/")) ? "/" : ""))));
}
const fromInput = (input) => [...input.files].map((f) => ({ file: f, path: f.webkitRelativePath || f.name }));
$("pick-files").onchange = (e) => setPicked(picked.concat(fromInput(e.target)));
$("pick-folder").onchange = (e) => setPicked(picked.concat(fromInput(e.target)));
$("picked-clear").onclick = () => setPicked([]);

// Dropped folders are walked with the entries API.
async function walk(entry, prefix, out) {
  if (entry.isFile) {
    out.push({ file: await new Promise((ok, bad) => entry.file(ok, bad)), path: prefix + entry.name });
    return;
  }
  const reader = entry.createReader();
  for (;;) {
    const batch = await new Promise((ok, bad) => reader.readEntries(ok, bad));
    if (!batch.length) return;
    for (const child of batch) await walk(child, prefix + entry.name + "/", out);
  }
}
const drop = $("drop");
drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
drop.addEventListener("dragleave", () => drop.classList.remove("over"));
drop.addEventListener("drop", async (e) => {
  e.preventDefault();
  drop.classList.remove("over");
  const out = [];
  const entries = [...e.dataTransfer.items].map((i) => i.webkitGetAsEntry && i.webkitGetAsEntry()).filter(Boolean);
  try {
    if (entries.length) for (const en of entries) await walk(en, "", out);
    else for (const f of e.dataTransfer.files) out.push({ file: f, path: f.name });
  } catch (err) { notice("could not read what was dropped: " + err.message); }
  setPicked(picked.concat(out));
});
drop.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); $("pick-files").click(); } });

function renderPeerChoices() {
  const box = $("send-peers");
  const checked = new Set([...box.querySelectorAll("input:checked")].map((i) => i.value));
  box.replaceChildren(...state.room.map((p) => el("label", {},
    el("input", { type: "checkbox", value: p.fingerprint, checked: checked.has(p.fingerprint), disabled: p.trust === "changed",
      on: { change: () => { document.querySelector('input[name="target"][value="peers"]').checked = true; updateSendTarget(); } } }),
    " " + p.name + " ", el("code", { class: "fp" }, p.fingerprint.slice(0, 9)), p.receives ? "" : " (not receiving)")));
  const to = $("msg-to");
  const keep = to.value;
  to.replaceChildren(...state.room.filter((p) => p.trust !== "changed").map((p) => el("option", { value: p.fingerprint }, p.name + " " + p.fingerprint.slice(0, 9))));
  if (keep) to.value = keep;
}
function updateSendTarget() {
  const toPeers = document.querySelector('input[name="target"]:checked').value === "peers";
  const ch = state.channels.find((c) => c.name === $("send-channel").value);
  $("send-open-wrap").hidden = toPeers || !ch || !ch.open;
}
for (const r of document.querySelectorAll('input[name="target"]')) r.onchange = updateSendTarget;
$("send-channel").onchange = updateSendTarget;

$("send-form").onsubmit = (e) => {
  e.preventDefault();
  if (!picked.length) { notice("choose files or a folder first"); return; }
  const toPeers = document.querySelector('input[name="target"]:checked').value === "peers";
  const opts = {
    channel: toPeers ? "" : $("send-channel").value,
    to: toPeers ? [...$("send-peers").querySelectorAll("input:checked")].map((i) => i.value) : [],
    min_receivers: Number($("send-min").value) || 0,
    wait_seconds: Number($("send-wait").value) || 10,
    no_encrypt: !toPeers && $("send-noencrypt").checked,
  };
  if (toPeers && !opts.to.length) { notice("tick at least one person, or send to a channel"); return; }
  const form = new FormData();
  form.append("options", JSON.stringify(opts));
  for (const p of picked) form.append("file", p.file, p.path);
  const xhr = new XMLHttpRequest();
  xhr.open("POST", "/api/send");
  xhr.upload.onprogress = (ev) => { if (ev.lengthComputable) $("send-upload").textContent = "preparing " + pct(ev.loaded / ev.total); };
  xhr.onload = () => {
    $("send-go").disabled = false;
    $("send-upload").textContent = "";
    let data = {};
    try { data = JSON.parse(xhr.responseText); } catch { /* not JSON */ }
    if (xhr.status !== 200) { notice("not sent: " + (data.error || xhr.statusText)); return; }
    setPicked([]);
  };
  xhr.onerror = () => { $("send-go").disabled = false; notice("upload failed"); };
  $("send-go").disabled = true;
  xhr.send(form);
};

function renderSends() {
  const jobs = [...state.sends].reverse();
  $("jobs").replaceChildren(...jobs.map((j) => {
    const frac = j.total ? Math.min(1, j.sent / j.total) : 0;
    const running = j.status === "waiting" || j.status === "sending";
    const rows = j.receivers.map((r) => el("tr", { class: "rcv " + r.Status.replace(/\s+/g, "-") },
      el("td", {}, r.Name || "—"), el("td", {}, el("code", { class: "fp" }, r.Fingerprint)),
      el("td", { class: "status" }, r.Status + (r.Reason ? " (" + r.Reason + ")" : "")),
      el("td", {}, el("progress", { max: 100, value: r.Percent }), " " + Math.round(r.Percent) + "%"),
      el("td", {}, pct(r.Loss)), el("td", {}, r.Elapsed ? (r.Elapsed / 1e9).toFixed(2) + " s" : "—")));
    let summary = "";
    if (j.report) {
      const rp = j.report;
      summary = bytes(j.total) + " in " + rp.seconds.toFixed(2) + " s (" + rate(j.total * 8 / Math.max(rp.seconds, 1e-3)) + "), " +
        rp.completed + " of " + j.receivers.length + " receivers complete, wire " + (j.total ? (rp.wire_bytes / j.total).toFixed(2) : "0") + "x, " + rp.repair + " repair shards";
    }
    return el("article", { class: "job " + j.status, "data-job": j.id },
      el("h3", {}, j.names.join(", "), el("span", { class: "muted" }, " → " + j.target + " · " + j.files + " file(s), " + bytes(j.total))),
      el("p", {}, el("span", { class: "pill " + j.status }, j.status), " ",
        el("progress", { max: 1, value: frac, "aria-label": "sent" }), " " + pct(frac),
        running && j.rate ? " · " + rate(j.rate) + " · worst loss " + pct(j.loss) : "",
        running ? el("button", { type: "button", class: "cancel", on: { click: async () => {
          try { await api("/api/send/cancel", { id: j.id }); } catch (e) { notice(e.message); }
        } } }, "Cancel") : ""),
      j.error ? el("p", { class: "error" }, j.error) : "",
      summary ? el("p", { class: "report" }, summary) : "",
      el("div", { class: "scroll" }, el("table", { class: "receivers" },
        el("thead", {}, el("tr", {}, ...["Receiver", "Fingerprint", "Status", "Progress", "Loss", "Time"].map((h) => el("th", {}, h)))),
        el("tbody", {}, ...rows))));
  }));
  $("jobs-empty").hidden = jobs.length > 0;
}

// ---- Inbox
function renderInbox() {
  const items = [...state.inbox].reverse();
  $("inbox-table").tBodies[0].replaceChildren(...items.map((it) => {
    const files = el("td", {});
    for (const p of it.paths || []) files.append(fileLink(p), el("br"));
    if (!(it.paths || []).length) files.append(el("span", { class: "muted" }, "—"));
    const status = el("td", {}, el("span", { class: "pill " + it.status }, it.status));
    if (it.status === "receiving" && it.total) status.append(" ", el("progress", { max: it.total, value: it.bytes }), " " + pct(it.bytes / it.total));
    if (it.reason) status.append(el("div", { class: "muted" }, it.reason));
    if (it.trust_sender) status.append(el("button", { type: "button", on: { click: () => askTrust(it.name, it.sender) } }, "Trust sender…"));
    return el("tr", {},
      el("td", {}, time(it.started)),
      el("td", {}, it.name || "—", el("br"), el("code", { class: "fp" }, it.sender)),
      files, el("td", {}, bytes(it.total)), status,
      el("td", {}, it.verified ? "✓ signed hashes matched" : ""));
  }));
  $("inbox-empty").hidden = items.length > 0;
  const fresh = state.inbox.filter((i) => i.status === "complete").length;
  $("inbox-count").textContent = fresh ? String(fresh) : "";
}

// fileLink downloads a received file; a folder expands to its files.
function fileLink(path) {
  const a = el("a", { href: "/api/file?path=" + encodeURIComponent(path) }, path);
  a.addEventListener("click", async (e) => {
    const r = await fetch(a.href, { method: "HEAD" });
    if (r.headers.get("Content-Type")?.startsWith("application/json")) {
      e.preventDefault();
      try {
        const list = await (await fetch(a.href)).json();
        a.after(el("ul", {}, ...list.filter((f) => !f.dir).map((f) => el("li", {}, fileLink(f.path), " " + bytes(f.size)))));
      } catch (err) { notice(err.message); }
    }
  }, { once: true });
  return a;
}

// ---- Messages
function kindLabel(m) {
  if (m.kind === "private") return m.outgoing ? "private to " + (m.peer_name || m.peer) : "private";
  return (m.kind === "announce" ? "announcement" : "chat") + " #" + m.channel;
}
function messageItem(m) {
  return el("li", { class: "msg " + m.kind + (m.priority ? " high" : "") + (m.outgoing ? " out" : ""), "data-key": m.key || "" },
    el("div", { class: "meta" }, el("time", {}, time(m.time)), " ", el("span", { class: "kind" }, kindLabel(m)), " ",
      el("strong", {}, m.sender || "?"), " ", el("code", { class: "fp" }, (m.fingerprint || "").slice(0, 9)),
      m.trust && m.trust !== "trusted" ? el("span", { class: "trust " + m.trust }, " " + m.trust) : "",
      m.priority ? el("span", { class: "pill high" }, "HIGH") : "",
      m.status ? el("span", { class: "status" }, " · " + m.status) : ""),
    el("p", { class: "text" }, m.text));
}
let notifyOK = "Notification" in window && Notification.permission === "granted";
$("msg-notify").onclick = async () => {
  if (!("Notification" in window)) { notice("this browser has no desktop notifications"); return; }
  notifyOK = (await Notification.requestPermission()) === "granted";
  notice(notifyOK ? "desktop notifications on" : "desktop notifications not allowed", !notifyOK);
};
function applyMessages(list, initial) {
  const ol = $("msg-list");
  for (const m of list) {
    const old = state.messages.get(m.key);
    state.messages.set(m.key, m);
    const li = messageItem(m);
    const existing = old && ol.querySelector('li[data-key="' + CSS.escape(m.key) + '"]');
    if (existing) existing.replaceWith(li);
    else {
      ol.prepend(li);
      if (!initial && !m.outgoing && notifyOK && document.hidden) new Notification((m.sender || "herald") + " · " + kindLabel(m), { body: m.text.slice(0, 200) });
    }
  }
  while (ol.children.length > 1000) ol.lastChild.remove();
  $("msg-empty").hidden = ol.children.length > 0;
  const unread = $("panel-messages").hidden ? list.filter((m) => !m.outgoing).length : 0;
  if (!initial && unread) $("msg-count").textContent = String(Number($("msg-count").textContent || 0) + unread);
}
$("tab-messages").addEventListener("click", () => { $("msg-count").textContent = ""; });

function updateCompose() {
  const k = $("msg-kind").value;
  $("msg-channel-wrap").hidden = k === "private";
  $("msg-to-wrap").hidden = k !== "private";
  $("msg-prio-wrap").hidden = k !== "announce";
}
$("msg-kind").onchange = updateCompose;
$("msg-text").addEventListener("keydown", (e) => {
  if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); $("msg-form").requestSubmit(); }
});
$("msg-form").onsubmit = async (e) => {
  e.preventDefault();
  const text = $("msg-text").value;
  if (!text.trim()) return;
  const kind = $("msg-kind").value;
  const body = { kind, text, channel: $("msg-channel").value, to: kind === "private" ? $("msg-to").value : "", priority: $("msg-priority").checked };
  try { await api("/api/message", body); $("msg-text").value = ""; } catch (err) { notice(err.message); }
};
$("hist-form").onsubmit = async (e) => {
  e.preventDefault();
  const q = new URLSearchParams({ q: $("hist-q").value, channel: $("hist-channel").value });
  try {
    const r = await fetch("/api/history?" + q);
    const list = await r.json();
    if (!r.ok) throw new Error(list.error);
    $("hist-list").replaceChildren(...(list.length ? list.map(messageItem) : [el("li", { class: "muted" }, "no messages match")]));
  } catch (err) { notice("history: " + err.message); }
};

// ---- live updates
let first = true;
function connect() {
  const es = new EventSource("/api/events");
  es.onopen = () => { $("conn").textContent = "live"; $("conn").className = "conn live"; };
  es.onerror = () => { $("conn").textContent = "reconnecting…"; $("conn").className = "conn"; };
  es.onmessage = (ev) => {
    const u = JSON.parse(ev.data);
    const s = u.sections;
    if (s.me) { state.me = u.me; renderMe(); }
    if (s.channels) { state.channels = u.channels || []; renderChannels(); }
    if (s.room) { state.room = u.room || []; renderRoom(); }
    if (s.sends) { state.sends = u.sends || []; renderSends(); }
    if (s.inbox) { state.inbox = u.inbox || []; renderInbox(); }
    if (s.messages) applyMessages(u.messages || [], first);
    first = false;
    if (!document.body.dataset.updates) document.body.dataset.firstUpdateMs = String(Math.round(performance.now()));
    document.body.dataset.updates = String(Number(document.body.dataset.updates || 0) + 1);
  };
}
updateCompose();
connect();
