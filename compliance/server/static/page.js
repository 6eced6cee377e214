// The copy page: lints as you type through the public HTTP API and highlights each finding in place.
//
// Rules this script keeps:
// - User text and server text are only ever put in the page with textContent / text nodes,
//   never innerHTML.
// - The API counts offsets in Unicode code points; JavaScript strings are UTF-16. Every offset
//   from the API goes through cpToUnit before it touches a string, and back through unitToCp.
// - A fix is applied only to the text it was computed for: if the text changed since the
//   check, nothing is applied and the page checks again.
"use strict";

(function () {
  const DEBOUNCE_MS = 300;
  const FIELDS = ["signature", "title", "body", "optout", "url"];
  const FIELD_LABELS = { message: "整条", signature: "签名", title: "标题", body: "正文", optout: "退订", url: "链接" };
  const SEVERITY_LABELS = { error: "错误", warning: "警告", info: "提示" };
  const IGNORED_KEY = "compliance.ignored";

  const $ = (id) => document.getElementById(id);
  const state = {
    composing: false,
    timer: null,
    seq: 0,              // id of the latest check sent; older answers are dropped
    checked: null,       // {mode, channel, values} the shown findings were computed for
    report: null,        // the last lint answer
    findings: [],        // shown findings, each with its editor position (UTF-16) resolved
    ignored: new Set(JSON.parse(sessionStorage.getItem(IGNORED_KEY) || "[]")),
  };

  // ---- code points <-> UTF-16 code units ------------------------------------------------

  /** UTF-16 index of code point `cp` in `text` (clamped to the text's end). */
  function cpToUnit(text, cp) {
    let unit = 0;
    for (let i = 0; i < cp && unit < text.length; i++) {
      const code = text.charCodeAt(unit);
      unit += code >= 0xd800 && code <= 0xdbff && unit + 1 < text.length ? 2 : 1;
    }
    return unit;
  }

  /** Code points in `text` before UTF-16 index `unit`. */
  function unitToCp(text, unit) {
    let cp = 0;
    for (let i = 0; i < unit && i < text.length; i++, cp++) {
      const code = text.charCodeAt(i);
      if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) i++;
    }
    return cp;
  }

  // ---- service ----------------------------------------------------------------------------

  function apiUrl(path) {
    const base = sessionStorage.getItem("compliance.api") || "";
    return base ? new URL(path, base.endsWith("/") ? base : base + "/").href : new URL(path, document.baseURI).href;
  }

  async function api(path, options) {
    const headers = Object.assign({ Accept: "application/json" }, (options && options.headers) || {});
    const token = sessionStorage.getItem("compliance.token");
    if (token) headers.Authorization = "Bearer " + token;
    let response;
    try {
      response = await fetch(apiUrl(path), Object.assign({}, options, { headers }));
    } catch (err) {
      throw new ApiProblem(0, "network", "无法连接服务（" + (err && err.message ? err.message : err) + "）");
    }
    let body = null;
    const text = await response.text();
    try { body = text ? JSON.parse(text) : null; } catch (_) { body = null; }
    if (!response.ok) {
      const error = body && body.error ? body.error : {};
      throw new ApiProblem(response.status, error.code || "http_" + response.status,
                           error.message || text.slice(0, 300) || response.statusText);
    }
    return body;
  }

  function ApiProblem(status, code, message) { this.status = status; this.code = code; this.message = message; }

  const PROBLEM_HINTS = {
    401: "需要有效的 API 令牌：请在“服务与令牌”中填写。",
    404: "渠道或规则不存在。",
    413: "文案太长，超过了服务允许的请求大小。",
    415: "请求格式不被接受。",
    422: "请求内容不符合接口格式。",
    503: "服务繁忙或暂不可用，请稍后再试。",
    504: "检查超时，请缩短文案后再试。",
  };

  function showError(problem) {
    const box = $("error");
    if (!problem) { box.hidden = true; box.textContent = ""; return; }
    const hint = PROBLEM_HINTS[problem.status] || (problem.status >= 500 ? "服务出错了，请稍后再试。" : "");
    const head = problem.status ? "检查失败（HTTP " + problem.status + "，" + problem.code + "）" : "检查失败";
    box.textContent = head + "：" + (hint ? hint + "\n" : "") + problem.message;
    box.hidden = false;
  }

  function setStatus(text) { $("status").textContent = text; }

  // ---- reading the editors ------------------------------------------------------------------

  function mode() { return document.querySelector("input[name=mode]:checked").value; }

  function editors() {
    if (mode() === "whole") return [{ field: "", el: $("text") }];
    return FIELDS.map((f) => ({ field: f, el: $("field-" + f) }));
  }

  function snapshot() {
    const values = {};
    for (const { field, el } of editors()) values[field] = el.value;
    return { mode: mode(), channel: $("channel").value, values };
  }

  function sameSnapshot(a, b) {
    if (!a || !b || a.mode !== b.mode || a.channel !== b.channel) return false;
    const keys = Object.keys(a.values);
    return keys.length === Object.keys(b.values).length && keys.every((k) => a.values[k] === b.values[k]);
  }

  function messageOf(snap) {
    if (snap.mode === "whole") return snap.values[""];
    const message = {};
    for (const f of FIELDS) if (snap.values[f]) message[f] = snap.values[f];
    return message;
  }

  // ---- checking -----------------------------------------------------------------------------

  function schedule() {
    clearTimeout(state.timer);
    if (state.composing) return;  // an IME is composing: wait for compositionend
    state.timer = setTimeout(check, DEBOUNCE_MS);
  }

  async function check() {
    clearTimeout(state.timer);
    const snap = snapshot();
    if (!snap.channel) return;
    const seq = ++state.seq;
    const message = messageOf(snap);
    const empty = typeof message === "string" ? message === "" : Object.keys(message).length === 0;
    if (empty) {
      state.checked = snap; state.report = null; state.findings = [];
      showError(null); render(); setStatus("");
      countCheck();
      return;
    }
    setStatus("检查中…");
    document.body.dataset.checking = "1";
    let stale = false;  // the text changed while the request ran: its answer is not shown
    try {
      const report = await api("v1/lint", {
        method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ message, channel: snap.channel }),
      });
      if (seq !== state.seq) return;
      if (!sameSnapshot(snap, snapshot())) { stale = true; schedule(); return; }  // typed meanwhile: check again
      state.checked = snap; state.report = report;
      showError(null);
      resolve(report, snap);
      render();
      setStatus(report.ok ? "未发现必须修改的问题" : "发现问题，请修改后再发送");
    } catch (problem) {
      if (seq !== state.seq) return;
      if (!sameSnapshot(snap, snapshot())) { stale = true; schedule(); return; }
      state.checked = null; state.report = null; state.findings = [];
      render();
      setStatus("");
      showError(problem instanceof ApiProblem ? problem : new ApiProblem(0, "script", String(problem)));
    } finally {
      if (seq === state.seq) {
        delete document.body.dataset.checking;
        if (!stale) countCheck();
      }
    }
  }

  /** Checks finished so far, on <body data-checks> (the browser tests wait on it). */
  function countCheck() {
    document.body.dataset.checks = String(Number(document.body.dataset.checks || 0) + 1);
  }

  function ignoreKey(f, report) {
    const text = f.field && report.fields[f.field] !== undefined && f.start !== null
      ? Array.from(report.fields[f.field]).slice(f.start, f.end).join("") : "";
    return [f.rule, f.field || "", text, f.field ? "" : f.message].join("\u0000");
  }

  /** Each finding of `report` with where it sits in the editors: {el, field, from, to} in UTF-16 units. */
  function resolve(report, snap) {
    state.findings = [];
    report.findings.forEach((f, index) => {
      const item = { finding: f, index, key: ignoreKey(f, report), spot: null, edits: [] };
      if (state.ignored.has(item.key)) return;
      item.spot = spot(report, snap, f.field, f.start, f.end);
      const seen = new Set();
      const edits = [];
      if (f.fix !== null && f.fix !== undefined) edits.push({ text: f.fix, start: f.start, end: f.end, reason: "安全修正", safe: true });
      for (const s of f.suggestions || []) edits.push({ text: s.text, start: s.start, end: s.end, reason: s.reason || "" });
      for (const e of edits) {
        const where = spot(report, snap, f.field, e.start, e.end);
        const key = e.text + "\u0000" + e.start + "\u0000" + e.end;
        if (where && !seen.has(key)) { seen.add(key); item.edits.push(Object.assign({}, e, where)); }
      }
      state.findings.push(item);
    });
  }

  /** Where [start, end) of `field` (code points of the linted field) is in the editors. */
  function spot(report, snap, field, start, end) {
    if (!field || start === null || start === undefined || end === null || end === undefined) return null;
    if (snap.mode === "whole") {
      const base = report.offsets[field];
      if (base === undefined) return null;
      const text = snap.values[""];
      return { el: $("text"), field: "", from: cpToUnit(text, base + start), to: cpToUnit(text, base + end) };
    }
    if (!FIELDS.includes(field) || snap.values[field] === undefined) return null;
    const text = snap.values[field];
    const linted = report.fields[field];
    // The API lints a field as it reads it (a signature without its 【】): find that text in the editor.
    const at = linted === text ? 0 : linted ? text.indexOf(linted) : -1;
    if (at < 0) return null;
    const base = unitToCp(text, at);
    return { el: $("field-" + field), field, from: cpToUnit(text, base + start), to: cpToUnit(text, base + end) };
  }

  // ---- applying fixes -----------------------------------------------------------------------

  /** Apply edits (each {el, from, to, text}) if the text is still the checked one; right to left. */
  function apply(edits) {
    if (!state.checked || !sameSnapshot(state.checked, snapshot())) {
      setStatus("文案已改动，正在重新检查，请稍后再采用");
      check();
      return false;
    }
    const byEditor = new Map();
    for (const e of edits) {
      if (!byEditor.has(e.el)) byEditor.set(e.el, []);
      byEditor.get(e.el).push(e);
    }
    for (const [el, list] of byEditor) {
      list.sort((a, b) => b.from - a.from || b.to - a.to);
      let text = el.value;
      let limit = Infinity;  // start of the last edit applied: later (leftward) edits must end before it
      for (const e of list) {
        if (e.to > limit) continue;  // overlaps an edit already applied
        text = text.slice(0, e.from) + e.text + text.slice(e.to);
        limit = e.from;
      }
      el.value = text;
    }
    check();
    return true;
  }

  function firstEdit(item) { return item.edits.length ? [item.edits[0]] : []; }

  // ---- rendering ----------------------------------------------------------------------------

  function render() {
    renderMarks();
    renderFindings();
    renderCounters();
  }

  function renderMarks() {
    const all = mode() === "whole" ? [$("text")] : FIELDS.map((f) => $("field-" + f));
    for (const el of all) {
      const backdrop = el.parentElement.querySelector(".backdrop");
      const text = el.value;
      const spans = state.findings.filter((it) => it.spot && it.spot.el === el)
        .map((it) => ({ it, from: it.spot.from, to: Math.max(it.spot.to, it.spot.from) }))
        .sort((a, b) => a.from - b.from || b.to - a.to);
      backdrop.replaceChildren();
      let pos = 0;
      for (const s of spans) {
        if (s.from < pos) continue;  // nested or overlapping: the card still lists it
        backdrop.append(document.createTextNode(text.slice(pos, s.from)));
        const mark = document.createElement("mark");
        mark.className = "sev-" + s.it.finding.severity;
        mark.dataset.index = String(s.it.index);
        mark.dataset.rule = s.it.finding.rule;
        mark.dataset.start = String(unitToCp(text, s.from));
        mark.dataset.end = String(unitToCp(text, s.to));
        mark.textContent = s.to > s.from ? text.slice(s.from, s.to) : "\u200b";
        backdrop.append(mark);
        pos = s.to;
      }
      backdrop.append(document.createTextNode(text.slice(pos) + "\n"));
      backdrop.scrollTop = el.scrollTop;
    }
  }

  function el(tag, props, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(props || {})) {
      if (k === "class") node.className = v;
      else if (k === "data") Object.assign(node.dataset, v);
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v);
    }
    for (const c of children) if (c !== null && c !== undefined) node.append(typeof c === "string" ? document.createTextNode(c) : c);
    return node;
  }

  function renderFindings() {
    const list = $("findings");
    list.replaceChildren();
    const report = state.report;
    const shown = state.findings;
    if (!report) {
      $("summary").textContent = "检查结果";
    } else if (!report.findings.length) {
      $("summary").textContent = "没有发现问题 ✓";
    } else {
      const errors = shown.filter((it) => it.finding.severity === "error").length;
      $("summary").textContent = "发现 " + shown.length + " 个问题（" + errors + " 个错误）"
        + (report.truncated ? "，另有 " + (report.finding_count - report.findings.length) + " 个未列出" : "");
    }
    const hidden = report ? report.findings.length - shown.length : 0;
    $("ignored").textContent = hidden ? "本次会话已忽略 " + hidden + " 个问题。" : "";
    $("apply-all").disabled = !shown.some((it) => it.edits.length);
    for (const it of shown) list.append(card(it));
  }

  function card(it) {
    const f = it.finding;
    const where = it.spot ? "“" + it.spot.el.value.slice(it.spot.from, it.spot.to) + "”" : null;
    const node = el("li", { class: "finding sev-" + f.severity, data: { index: String(it.index), rule: f.rule } },
      el("p", { class: "message" }, f.message),
      el("div", { class: "meta" },
        el("span", {}, SEVERITY_LABELS[f.severity] || f.severity),
        el("code", { class: "rule-id" }, f.rule),
        f.ref ? el("span", { class: "ref" }, "条款 " + f.ref) : null,
        f.field ? el("span", {}, "位置：" + (FIELD_LABELS[f.field] || f.field) + (where ? " " + where : "")) : null));
    if (f.explanation && f.explanation.length) {
      node.append(el("ul", { class: "explanation" }, ...f.explanation.map((line) => el("li", {}, "因为 " + line))));
    }
    if (it.edits.length) {
      const box = el("div", { class: "suggestions" });
      for (const e of it.edits) {
        const label = e.text === "" ? "删除" : "→ " + e.text;
        box.append(el("button", { type: "button", class: "suggestion", title: e.reason,
                                  onclick: () => apply([e]) },
          label, e.reason ? el("span", { class: "reason" }, e.reason) : null));
      }
      node.append(box);
    }
    const sameRule = state.findings.filter((other) => other.finding.rule === f.rule && other.edits.length);
    node.append(el("div", { class: "actions" },
      sameRule.length > 1 ? el("button", { type: "button", class: "apply-rule",
                                           onclick: () => apply(sameRule.flatMap(firstEdit)) },
                                "本规则全部采用（" + sameRule.length + "）") : null,
      el("button", { type: "button", class: "ignore", onclick: () => ignore(it) }, "忽略"),
      el("button", { type: "button", class: "link open-rule", onclick: () => openRule(f.rule) }, "规则说明")));
    node.addEventListener("mouseenter", () => activate(it.index, true));
    node.addEventListener("mouseleave", () => activate(it.index, false));
    return node;
  }

  function activate(index, on) {
    for (const node of document.querySelectorAll('[data-index="' + index + '"]')) node.classList.toggle("active", on);
  }

  function ignore(it) {
    state.ignored.add(it.key);
    sessionStorage.setItem(IGNORED_KEY, JSON.stringify(Array.from(state.ignored)));
    state.findings = state.findings.filter((other) => other !== it);
    render();
  }

  function renderCounters() {
    const box = $("counters");
    box.replaceChildren();
    const m = state.report && state.report.measure;
    if (!m) return;
    const limits = m.limits || {};
    const item = (label, value, limit, cls) => {
      const over = limit !== undefined && value > limit;
      return el("span", { class: cls + (over ? " over" : ""), data: { value: String(value) } },
                label + " " + value + (limit !== undefined ? " / " + limit : ""));
    };
    box.append(item("字数", m.characters, limits.max_message_chars, "count-chars"));
    box.append(item("显示宽度", m.width, limits.max_message_width, "count-width"));
    if (m.segments !== null && m.segments !== undefined) {
      box.append(el("span", { class: "count-segments" + (m.segments > 1 ? " over" : ""), data: { value: String(m.segments) },
                              title: m.sms_single_chars + " 字以内 1 条，超过按每条 " + m.sms_part_chars + " 字计费" },
                    "计费 " + m.segments + " 条"));
    }
    for (const [name, limit] of Object.entries(limits)) {
      const match = /^max_(.+)_(chars|width)$/.exec(name);
      if (!match || match[1] === "message") continue;
      const counted = (m.fields || {})[match[1]];
      const value = counted ? (match[2] === "chars" ? counted.characters : counted.width) : 0;
      box.append(item((FIELD_LABELS[match[1]] || match[1]) + (match[2] === "chars" ? "字数" : "宽度"), value, limit,
                      "count-" + match[1] + "-" + match[2]));
    }
  }

  // ---- rule page ----------------------------------------------------------------------------

  async function openRule(id) {
    const panel = $("rule");
    const body = $("rule-body");
    $("rule-title").textContent = id;
    body.replaceChildren(el("dd", {}, "加载中…"));
    panel.hidden = false;
    try {
      const r = await api("v1/rules/" + encodeURIComponent(id));
      $("rule-title").textContent = r.id + (r.refs.length ? "（" + r.refs.join("，") + "）" : "");
      const rows = [["规则", r.title], ["为什么", r.explain], ["类别", r.category + " · " + (SEVERITY_LABELS[r.severity] || r.severity)],
                    ["所属规则包", r.pack + "（" + r.pack_title + "）"], ["适用条件", r.when],
                    [r.condition_kind === "selects" ? "选择" : "要求", r.condition], ["查找", r.find],
                    ["检查字段", (r.on || []).join("、")], ["提示语", r.message],
                    ["示例", r.examples.map((e) => (e.outcome === "pass" ? "✓ " : "✗ ") + e.text).join("\n")],
                    ["定义于", r.source]];
      body.replaceChildren();
      for (const [label, value] of rows) if (value) body.append(el("dt", {}, label), el("dd", {}, value));
    } catch (problem) {
      body.replaceChildren(el("dd", { class: "error" }, "无法加载规则：" + (problem.message || String(problem))));
    }
    panel.scrollIntoView({ block: "nearest" });
  }

  // ---- start --------------------------------------------------------------------------------

  async function loadChannels() {
    const select = $("channel");
    const wanted = new URLSearchParams(location.search).get("channel") || sessionStorage.getItem("compliance.channel");
    let channels = [];
    try {
      const rules = await api("v1/rules");
      const seen = new Set();
      for (const r of rules.rules) for (const c of r.channels || [r.channel]) seen.add(c);
      channels = Array.from(seen).sort();
      showError(null);
    } catch (problem) {
      showError(problem);
    }
    if (wanted && !channels.includes(wanted)) channels.unshift(wanted);
    select.replaceChildren(...channels.map((c) => el("option", { value: c }, c)));
    if (wanted) select.value = wanted;
    else if (channels.includes("jd.sms")) select.value = "jd.sms";
    document.body.dataset.ready = "1";
  }

  function start() {
    $("api-base").value = sessionStorage.getItem("compliance.api") || "";
    $("api-token").value = sessionStorage.getItem("compliance.token") || "";
    $("save-service").addEventListener("click", async () => {
      sessionStorage.setItem("compliance.api", $("api-base").value.trim());
      sessionStorage.setItem("compliance.token", $("api-token").value.trim());
      await loadChannels();
      check();
    });
    $("channel").addEventListener("change", () => { sessionStorage.setItem("compliance.channel", $("channel").value); check(); });
    for (const radio of document.querySelectorAll("input[name=mode]")) {
      radio.addEventListener("change", () => {
        $("editor-whole").hidden = mode() !== "whole";
        $("editor-fields").hidden = mode() === "whole";
        state.findings = []; state.report = null; render(); check();
      });
    }
    for (const area of document.querySelectorAll(".editor textarea")) {
      area.addEventListener("input", () => {
        // The marks no longer match the text: drop them until the next check (the cards stay,
        // and their buttons refuse to apply to the changed text).
        const backdrop = area.parentElement.querySelector(".backdrop");
        backdrop.replaceChildren(document.createTextNode(area.value + "\n"));
        schedule();
      });
      area.addEventListener("compositionstart", () => { state.composing = true; clearTimeout(state.timer); });
      area.addEventListener("compositionend", () => { state.composing = false; schedule(); });
      area.addEventListener("scroll", () => { area.parentElement.querySelector(".backdrop").scrollTop = area.scrollTop; });
    }
    $("apply-all").addEventListener("click", () => apply(state.findings.flatMap(firstEdit)));
    $("rule-close").addEventListener("click", () => { $("rule").hidden = true; });
    loadChannels().then(check);
  }

  window.compliancePage = { cpToUnit, unitToCp, check };
  start();
})();
