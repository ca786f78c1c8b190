// The local console: send what is typed to /console/send, poll /console/feed for what the bot says.
// Plain JavaScript, no build step. Text from the server is only ever placed with textContent /
// text nodes, never innerHTML, so a message cannot inject markup.
(function () {
  "use strict";

  const config = JSON.parse(document.getElementById("console-config").textContent);
  const POLL_MS = 500;          // replies should show within a second
  const HIDDEN_POLL_MS = 3000;  // a background tab needs no such hurry
  const RETRY_MS = 2000;
  const SLOW_MS = 8000;         // a message not stored by then: say what it is waiting for

  const $ = (id) => document.getElementById(id);
  const nameInput = $("user-name");
  const list = $("messages");
  const emptyNote = $("empty");
  const composer = $("composer");
  const textBox = $("message-text");
  const sendButton = $("send");
  const errorLine = $("error");
  const csrfToken = composer.querySelector("input[name=csrfmiddlewaretoken]").value;

  const state = { channel: "", lastId: 0, generation: 0, timer: null, inFlight: null, pending: new Map(),
                  panels: "" };

  // ---- Slack mrkdwn, minimally: `code`, *bold*, _italic_, <@U…> mentions, <#C…|name>, <url|label>, <url>,
  // and bare http(s) URLs (the bot writes them so; Slack would link them) ----
  const INLINE = new RegExp(
    "`([^`\\n]+)`" +                                        // 1: code
    "|<((?:[@#!]|(?:https?|mailto):)[^<>]*)>" +             // 2: Slack's angle-bracket tokens
    "|(?<![\\w*])\\*([^*\\n]+)\\*(?![\\w*])" +              // 3: bold
    "|(?<![\\w_])_([^_\\n]+)_(?![\\w_])" +                   // 4: italic
    "|\\bhttps?://(?:(?!&[lg]t;)[^\\s<>])+", "g");            // 0 alone: a bare URL (up to an escaped < or >)
  const TRAILING = /[.,;:!?'")\]]+$/;                       // punctuation after a bare URL is the sentence's

  function unescapeSlack(text) {
    // Slack escapes these three in message text; & last, so "&amp;lt;" stays "&lt;".
    return text.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
  }

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function tokenNode(token, names) {
    const [target, label] = token.split(/\|(.*)/s);
    if (target[0] === "@") {
      const id = target.slice(1);
      return el("span", "mention", "@" + (names[id] || label || id));
    }
    if (target[0] === "#") return el("span", "mention", "#" + (label || target.slice(1)));
    if (target[0] === "!") {
      const word = target.slice(1).split("^")[0];
      return el("span", "mention", label || "@" + word);
    }
    return linkNode(unescapeSlack(target), unescapeSlack(label || target));
  }

  function webAddress(text) {
    // Only http(s) becomes a link: the browser's own parser decides, so no "javascript:" slips through.
    try {
      const url = new URL(text);
      return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
    } catch (e) { return null; }
  }

  function linkNode(target, label) {
    const href = webAddress(target);
    if (!href) return document.createTextNode(label);  // e.g. <mailto:…|label>: its label, as text
    const link = el("a", "", label);
    link.href = href;
    link.rel = "noopener noreferrer";
    link.target = "_blank";
    return link;
  }

  function appendMrkdwn(parent, text, names) {
    let last = 0;
    for (const match of text.matchAll(INLINE)) {
      if (match.index > last) parent.append(unescapeSlack(text.slice(last, match.index)));
      let end = match.index + match[0].length;
      if (match[1] !== undefined) parent.append(el("code", "", unescapeSlack(match[1])));
      else if (match[2] !== undefined) parent.append(tokenNode(match[2], names));
      else if (match[3] === undefined && match[4] === undefined) {
        const url = match[0].replace(TRAILING, "");
        end = match.index + url.length;
        parent.append(linkNode(unescapeSlack(url), unescapeSlack(url)));
      } else {
        const node = el(match[3] !== undefined ? "strong" : "em");
        appendMrkdwn(node, match[3] !== undefined ? match[3] : match[4], names);
        parent.append(node);
      }
      last = end;
    }
    if (last < text.length) parent.append(unescapeSlack(text.slice(last)));
  }

  // ---- the conversation pane ----
  function timeOf(iso) {
    // 18:05 today; Thu 21 Jan, 18:05 another day; Thu 21 Jan 2027, 18:05 another year.
    const date = iso ? new Date(iso) : new Date();
    const now = new Date();
    const time = date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
    if (date.toDateString() === now.toDateString()) return time;
    const day = { weekday: "short", day: "numeric", month: "short" };
    if (date.getFullYear() !== now.getFullYear()) day.year = "numeric";
    return date.toLocaleDateString([], day) + ", " + time;
  }

  function messageItem({ name, isBot, text, postedAt, names, pending }) {
    const item = el("li", "message" + (isBot ? " from-bot" : "") + (pending ? " pending" : ""));
    const meta = el("div", "meta");
    meta.append(el("span", "author", name));
    if (isBot) meta.append(el("span", "tag", "bot"));
    const when = el("time", "", pending ? "sending…" : timeOf(postedAt));
    if (postedAt) when.dateTime = postedAt;
    meta.append(when);
    if (pending) meta.append(el("span", "status"));
    const body = el("div", "text");
    appendMrkdwn(body, text, names || {});
    item.append(meta, body);
    return item;
  }

  function nearBottom() {
    return list.scrollHeight - list.scrollTop - list.clientHeight < 80;
  }

  function append(items) {
    if (!items.length) return;
    const stick = nearBottom();
    for (const item of items) list.append(item);
    emptyNote.hidden = true;
    if (stick) list.scrollTop = list.scrollHeight;
  }

  // A sent message stays greyed until the worker has stored it; if that takes a while, it says why.
  function waitFor(ts, item, kept) {
    const say = (label, why) => {
      item.querySelector("time").textContent = label;
      item.querySelector(".status").textContent = why;
      item.classList.add("held");
    };
    if (kept) say("not sent yet", "the broker is not answering; it is kept and handed on when the broker is back.");
    const timer = setTimeout(() => {
      if (state.pending.get(ts) === item && !kept) say("queued", "not stored yet: is the worker running?");
    }, SLOW_MS);
    state.pending.set(ts, item);
    item.addEventListener("stored", () => clearTimeout(timer), { once: true });
  }

  function addMessages(messages, names) {
    append(messages.map((m) => {
      const waiting = state.pending.get(m.ts);
      if (waiting) { waiting.dispatchEvent(new Event("stored")); waiting.remove(); state.pending.delete(m.ts); }
      const item = messageItem({ name: m.name, isBot: m.is_bot, text: m.text, postedAt: m.posted_at, names });
      item.dataset.id = m.id;
      item.dataset.user = m.user;
      return item;
    }));
  }

  // ---- side panels ----
  function renderStats(rows) {
    const body = $("stats").tBodies[0];
    if (!rows.length) {
      const none = el("tr", "none");
      const cell = el("td", "", "None yet");
      cell.colSpan = 2;
      none.append(cell);
      body.replaceChildren(none);
      return;
    }
    body.replaceChildren(...rows.map((row) => {
      const tr = el("tr");
      tr.append(el("td", "", row.command), el("td", "", String(row.uses)));
      return tr;
    }));
  }

  function renderHealth(health) {
    const line = $("health");
    const db = health.database.ok ? `database ok · ${health.database.ms.toFixed(1)} ms` : "database down";
    const queues = health.queues
      ? "queues " + Object.entries(health.queues).map(([q, n]) => `${q} ${n}`).join(", ")
      : "broker not answering";
    line.textContent = `${db} · ${queues}`;
    line.classList.toggle("bad", !health.database.ok || !health.queues);
  }

  function renderNext(next) {
    const box = $("next-event");
    if (!next) { box.textContent = "Nothing scheduled."; return; }
    const title = el("strong");
    title.append(next.url ? linkNode(next.url, next.title) : next.title);
    box.replaceChildren(title, el("br"), next.starts + (next.location ? " · " + next.location : ""));
  }

  // ---- polling ----
  function feedUrl() {
    const query = new URLSearchParams({ channel: state.channel, after: String(state.lastId) });
    if (state.channel === config.dmKey) query.set("user", nameInput.value.trim());
    return config.feedUrl + "?" + query;
  }

  function schedule(ms) {
    clearTimeout(state.timer);
    state.timer = setTimeout(poll, ms);
  }

  async function poll() {
    if (state.inFlight) return;
    const generation = state.generation;
    const controller = new AbortController();
    state.inFlight = controller;
    let wait = document.hidden ? HIDDEN_POLL_MS : POLL_MS;
    try {
      const response = await fetch(feedUrl(), { signal: controller.signal, headers: { Accept: "application/json" } });
      const data = await response.json();
      if (!response.ok) throw new Error(data.error || response.statusText);
      if (generation === state.generation) {
        addMessages(data.messages, data.names);
        state.lastId = data.last_id;
        renderHealth(data.health);
        const panels = JSON.stringify([data.stats, data.next]);
        if (panels !== state.panels) {  // redraw only on change: polls come twice a second
          state.panels = panels;
          renderStats(data.stats);
          renderNext(data.next);
        }
      }
    } catch (err) {
      if (err.name === "AbortError") return;  // whoever aborted it has scheduled the next poll
      $("health").textContent = "console cannot reach the server: " + err.message;
      $("health").classList.add("bad");
      wait = RETRY_MS;
    } finally {
      if (state.inFlight === controller) state.inFlight = null;
    }
    schedule(wait);
  }

  function pollNow() {
    if (state.inFlight) { state.inFlight.abort(); state.inFlight = null; }
    schedule(0);
  }

  // ---- choosing who and where ----
  function selectedChannel() {
    return document.querySelector("input[name=channel]:checked");
  }

  function showChannel() {
    const radio = selectedChannel();
    state.channel = radio.value;
    state.lastId = 0;
    state.generation += 1;
    state.pending.clear();
    list.replaceChildren();
    emptyNote.hidden = false;
    $("channel-title").textContent = radio.dataset.label;
    textBox.placeholder = `Message ${radio.dataset.label} (Enter sends, Shift+Enter for a new line)`;
    try { localStorage.setItem("charla.console.channel", state.channel); } catch (e) { /* private mode */ }
    pollNow();
  }

  function restore() {
    try {
      const name = localStorage.getItem("charla.console.name");
      if (name) nameInput.value = name;
      const channel = localStorage.getItem("charla.console.channel");
      const radio = channel && document.querySelector(`input[name=channel][value="${CSS.escape(channel)}"]`);
      if (radio) radio.checked = true;
    } catch (e) { /* storage unavailable: keep the defaults */ }
  }

  // ---- sending ----
  function showError(message) {
    errorLine.textContent = message;
    errorLine.hidden = !message;
  }

  async function send(event) {
    event.preventDefault();
    const text = textBox.value;
    if (!text.trim()) { showError("Type a message first."); return; }
    const name = nameInput.value.trim();
    sendButton.disabled = true;
    showError("");
    try {
      const response = await fetch(config.sendUrl, {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken, Accept: "application/json" },
        body: JSON.stringify({ user: name, channel: state.channel, text }),
        credentials: "same-origin",
      });
      let data = {};
      try { data = await response.json(); } catch (e) { /* e.g. the 403 page of the CSRF check */ }
      if (!response.ok) {
        const fallback = response.status === 403 ? "Refused (CSRF check failed): reload the page."
                                                 : `Not sent (${response.status}).`;
        showError(data.error || fallback);
        return;
      }
      textBox.value = "";
      try { localStorage.setItem("charla.console.name", data.user.name); } catch (e) { /* ignore */ }
      // Shown greyed until the worker has stored it and the feed returns it (matched by ts).
      const waiting = messageItem({ name: data.user.name, isBot: false, text: escapeForSlack(text), pending: true });
      waitFor(data.ts, waiting, data.kept);
      append([waiting]);
      list.scrollTop = list.scrollHeight;
      pollNow();
    } catch (err) {
      showError("Not sent: " + err.message);
    } finally {
      sendButton.disabled = false;
      textBox.focus();
    }
  }

  function escapeForSlack(text) {
    return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  }

  textBox.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      composer.requestSubmit();
    }
  });
  composer.addEventListener("submit", send);
  for (const radio of document.querySelectorAll("input[name=channel]")) radio.addEventListener("change", showChannel);
  nameInput.addEventListener("change", () => {
    try { localStorage.setItem("charla.console.name", nameInput.value.trim()); } catch (e) { /* ignore */ }
    if (state.channel === config.dmKey) showChannel();  // each person has their own DM with the bot
  });
  document.addEventListener("visibilitychange", () => { if (!document.hidden) pollNow(); });

  restore();
  showChannel();
})();
