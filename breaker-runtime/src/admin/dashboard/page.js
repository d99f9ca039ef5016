"use strict";
// The admin dashboard. Every value from the server is data: it is shown with textContent and
// attributes, never parsed as HTML. A missing field shows as a dash.
(() => {
const WORDS = {closed: "Closed", open: "Open", half_open: "Half-open", forced_open: "Forced open", disabled: "Disabled", metrics_only: "Metrics only"};
const COUNTERS = ["successes", "failures", "ignored", "rejected", "timeouts", "cancelled"];
const HISTORY = 121; // one sample a second: two minutes of rates
const SILENCE_MS = 45000; // three heartbeats: a stream this quiet is dead
const $ = (id) => document.getElementById(id);
const tiles = new Map(); // name -> {el, parts, snap, samples, deadline}
let token = sessionStorage.getItem("breaker-admin-token") || "";
let backoff = 500;

// The token may come in the fragment (never sent to the server); keep it out of the address bar.
const fragment = new URLSearchParams(location.hash.slice(1)).get("token");
if (fragment) {
  token = fragment;
  sessionStorage.setItem("breaker-admin-token", token);
  history.replaceState(null, "", location.pathname + location.search);
}

const num = (v) => (typeof v === "number" && isFinite(v) ? v : null);
const show = (v, f) => (num(v) === null ? "–" : f ? f(v) : String(v));
const pct = (v) => (v * 100).toFixed(v < 0.1 ? 1 : 0) + "%";
const get = (o, ...path) => path.reduce((x, k) => (x && typeof x === "object" ? x[k] : undefined), o);
function headers(extra) {
  const h = Object.assign({}, extra);
  if (token) h.Authorization = "Bearer " + token;
  return h;
}
function setConn(text, cls) {
  const el = $("conn");
  el.textContent = text;
  el.className = "conn " + cls;
}

function tileFor(name) {
  let t = tiles.get(name);
  if (t) return t;
  const el = $("tile").content.firstElementChild.cloneNode(true);
  const q = (sel) => el.querySelector(sel);
  t = {el, snap: null, samples: [], deadline: null, q};
  q(".name").textContent = name;
  q(".name").title = name;
  q(".cps").textContent = q(".rps").textContent = "–";
  el.dataset.name = name;
  for (const b of el.querySelectorAll("button")) b.addEventListener("click", () => act(name, b.dataset.action, b.textContent));
  // Stable order: by name, whatever order breakers appear in.
  const after = [...tiles.keys()].filter((n) => n > name).sort()[0];
  $("tiles").insertBefore(el, after === undefined ? null : tiles.get(after).el);
  tiles.set(name, t);
  return t;
}

function bar(t, cls, rate, threshold) {
  const fill = t.q(".fill." + cls), mark = t.q("." + cls + "-mark");
  const r = num(rate), th = num(threshold);
  fill.style.width = r === null ? "0" : Math.min(100, r * 100) + "%";
  fill.classList.toggle("over", r !== null && th !== null && r >= th);
  mark.style.display = th === null ? "none" : "block";
  if (th !== null) mark.style.left = Math.min(99, th * 100) + "%";
  t.q("." + cls + "-val").textContent = show(rate, pct) + (th === null ? "" : " / " + pct(th));
}

function render(t, s) {
  t.snap = s;
  const state = typeof s.state === "string" ? s.state : null;
  const colour = state && WORDS[state] ? "var(--" + state + ")" : "#999";
  t.el.style.setProperty("--c", colour);
  t.el.dataset.state = state || "";
  t.q(".state").textContent = state ? WORDS[state] || state : "–";
  const computed = s.computed_state;
  t.q(".computed").textContent = typeof computed === "string" ? "(counts say " + (WORDS[computed] || computed) + ")" : "";
  t.q(".rule").textContent = rule(s.thresholds);
  bar(t, "fail", get(s, "metrics", "failure_rate"), get(s, "thresholds", "failure_rate"));
  bar(t, "slow", get(s, "metrics", "slow_call_rate"), get(s, "thresholds", "slow_call_rate"));
  for (const c of COUNTERS) t.q(".c-" + c).textContent = show(get(s, "metrics", c));
  const retry = num(s.retry_after_ms);
  t.deadline = state === "open" && retry !== null ? performance.now() + retry : null;
  const last = s.last_transition;
  t.q(".last").textContent = last && typeof last === "object"
    ? "last change: " + (typeof last.reason === "string" ? last.reason.replace(/_/g, " ") : "–") + ", " + ago(last.ms_ago)
    : "last change: –";
  t.q(".cause").textContent = typeof s.open_cause === "string" ? "cause: " + s.open_cause : "";
  fleet(t, s.fleet);
  phase(t);
}

// Shared by a fleet (fleet mode): its namespace, and whether this instance reaches Redis or
// decides alone for now. Nothing for a breaker no fleet shares.
function fleet(t, f) {
  const line = t.q(".fleet");
  const linked = f && typeof f === "object";
  line.classList.toggle("alone", linked && f.connected === false);
  if (!linked) { line.textContent = ""; return; }
  const name = "fleet " + (typeof f.namespace === "string" ? f.namespace : "–");
  line.textContent = f.connected === false
    ? name + ": Redis unreachable, deciding alone"
    : name + ": linked (open, close and reset act fleet-wide)";
}

// What opens the breaker, in words: "opens at 5 failures in a row, 50% failures (10 calls)".
function rule(th) {
  if (!th || typeof th !== "object") return "opens at: –";
  const parts = [];
  if (num(th.failure_threshold) !== null) parts.push(th.failure_threshold + " failures in a row");
  if (num(th.failure_rate) !== null) parts.push(pct(th.failure_rate) + " failures");
  if (num(th.slow_call_rate) !== null) parts.push(pct(th.slow_call_rate) + " slow calls");
  const rated = num(th.failure_rate) !== null || num(th.slow_call_rate) !== null;
  return "opens at " + (parts.join(", ") || "–") + (rated ? " (of at least " + show(th.minimum_calls) + " calls)" : "");
}

function ago(ms) {
  const v = num(ms);
  if (v === null) return "–";
  const when = new Date(Date.now() - v);
  return Math.round(v / 1000) + " s ago (" + when.toLocaleTimeString() + ")";
}

// The open countdown and the half-open probes, redrawn between events too.
function phase(t) {
  const el = t.q(".phase"), s = t.snap;
  if (t.deadline !== null) {
    el.textContent = "next probe in " + Math.max(0, (t.deadline - performance.now()) / 1000).toFixed(1) + " s";
  } else if (s.state === "half_open") {
    const p = s.probes || {};
    el.textContent = "probes in flight " + show(p.in_flight) + " / " + show(p.max_in_flight) + ", successes " + show(p.successes) + " / " + show(p.success_threshold);
  } else {
    el.textContent = "";
  }
}

function update(list) {
  if (!Array.isArray(list)) return;
  const seen = new Set();
  for (const s of list) {
    if (!s || typeof s.name !== "string") continue;
    seen.add(s.name);
    const t = tileFor(s.name);
    try { render(t, s); } catch (e) { console.error(e); }
  }
  for (const [name, t] of tiles) if (!seen.has(name)) { t.el.remove(); tiles.delete(name); }
  $("empty").hidden = tiles.size > 0;
}

// Once a second: a sample of every breaker's counters, for calls/s, rejected/s and the sparkline.
function sample() {
  const now = performance.now();
  for (const t of tiles.values()) {
    const calls = num(get(t.snap, "metrics", "calls")), rejected = num(get(t.snap, "metrics", "rejected"));
    t.samples.push({now, calls, rejected});
    if (t.samples.length > HISTORY) t.samples.shift();
    const rates = [];
    for (let i = 1; i < t.samples.length; i++) {
      const a = t.samples[i - 1], b = t.samples[i], dt = (b.now - a.now) / 1000;
      const rate = (x, y) => (x === null || y === null || y < x || dt <= 0 ? null : (y - x) / dt);
      rates.push({calls: rate(a.calls, b.calls), rejected: rate(a.rejected, b.rejected)});
    }
    const latest = rates[rates.length - 1] || {};
    t.q(".cps").textContent = show(latest.calls, (v) => v.toFixed(1));
    t.q(".rps").textContent = show(latest.rejected, (v) => v.toFixed(1));
    spark(t.q(".spark"), rates);
  }
}

function spark(canvas, rates) {
  const g = canvas.getContext("2d"), w = canvas.width, h = canvas.height;
  g.clearRect(0, 0, w, h);
  const top = Math.max(1, ...rates.map((r) => Math.max(r.calls || 0, r.rejected || 0)));
  const line = (key, colour) => {
    g.strokeStyle = colour;
    g.beginPath();
    rates.forEach((r, i) => {
      const x = w - (rates.length - 1 - i) * (w / (HISTORY - 1)), y = h - 1 - ((r[key] || 0) / top) * (h - 2);
      i ? g.lineTo(x, y) : g.moveTo(x, y);
    });
    g.stroke();
  };
  line("calls", "#0969da");
  line("rejected", "#cf222e");
}

async function act(name, action, label) {
  if (!confirm(label + " the breaker " + name + "?")) return;
  const out = $("result");
  try {
    const r = await fetch("breakers/" + encodeURIComponent(name) + "/" + action, {
      method: "POST", headers: headers({"Content-Type": "application/json"}), body: "{}", cache: "no-store",
    });
    const body = await r.json().catch(() => ({}));
    out.textContent = r.ok
      ? label + " " + name + ": done, now " + (WORDS[body.state] || body.state || "–")
      : label + " " + name + " failed (" + r.status + "): " + (body.error || r.statusText);
    if (r.ok && body.name === name) render(tileFor(name), body);
  } catch (e) {
    out.textContent = label + " " + name + " failed: the server did not answer";
  }
}

// Server-sent events over fetch, so the token travels in a header, never in the URL.
async function connect() {
  const abort = new AbortController();
  let heard = Date.now();
  const watchdog = setInterval(() => { if (Date.now() - heard > SILENCE_MS) abort.abort(); }, 5000);
  try {
    const r = await fetch("events", {headers: headers({Accept: "text/event-stream"}), cache: "no-store", signal: abort.signal});
    if (r.status === 401) {
      setConn("token needed", "down");
      $("auth").hidden = false;
      return;
    }
    if (!r.ok || !r.body) throw new Error("HTTP " + r.status);
    setConn("live", "live");
    backoff = 500;
    const reader = r.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    for (;;) {
      const {value, done} = await reader.read();
      if (done) break;
      heard = Date.now();
      buffer += value.replace(/\r/g, "");
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = block.split("\n").filter((l) => l.startsWith("data:")).map((l) => l.slice(5).replace(/^ /, "")).join("\n");
        if (data) { try { update(JSON.parse(data)); } catch (e) { console.error(e); } }
      }
    }
  } catch (e) {
    // Falls through to the reconnect below.
  } finally {
    clearInterval(watchdog);
  }
  if (!$("auth").hidden) return;
  setConn("disconnected: retrying in " + Math.round(backoff / 1000) + " s", "down");
  setTimeout(connect, backoff);
  backoff = Math.min(backoff * 2, 10000);
}

$("auth").addEventListener("submit", (e) => {
  e.preventDefault();
  token = $("token").value.trim();
  sessionStorage.setItem("breaker-admin-token", token);
  $("auth").hidden = true;
  setConn("connecting…", "");
  connect();
});
setInterval(sample, 1000);
setInterval(() => tiles.forEach(phase), 200);
connect();
})();
