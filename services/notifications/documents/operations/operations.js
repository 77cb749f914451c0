// The operator's page: reads /v1/operations/overview with the operator's token and acts through the same API
// (re-drive, discard, pause, resume). The token is kept per tab (shared/page_assets/token.js). Everything shown is
// set as text, never as markup.
(function () {
  "use strict";
  const stored = window.RuggengraatToken("ruggengraat.operations.token");
  const REFRESH_MS = 15000;
  const $ = (id) => document.getElementById(id);
  let timer = null;
  let busy = false; // an action under way holds the periodic refresh back
  let generation = 0; // only the latest refresh shows what it read: an older one still reading gives way
  let discarding = null; // {service, id, reason}: a discard being typed, kept across refreshes

  const token = stored.get;

  function say(text, isError) {
    $("status").textContent = text;
    $("status").classList.toggle("error", Boolean(isError));
  }

  async function api(method, path, body) {
    const response = await fetch(path, {
      method,
      headers: Object.assign(
        { authorization: "Bearer " + token(), accept: "application/json" },
        body === undefined ? {} : { "content-type": "application/json" }
      ),
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    const data = text ? JSON.parse(text) : null;
    if (!response.ok) {
      const detail = data && data.detail ? (typeof data.detail === "string" ? data.detail : JSON.stringify(data.detail)) : response.statusText;
      const error = new Error(detail);
      error.status = response.status;
      throw error;
    }
    return data;
  }

  function cell(row, text, className) {
    const td = document.createElement("td");
    td.textContent = text === null || text === undefined ? "–" : String(text);
    if (className) td.className = className;
    row.appendChild(td);
    return td;
  }

  function badge(td, text, kind) {
    td.textContent = "";
    const span = document.createElement("span");
    span.className = "badge " + kind;
    span.textContent = text;
    td.appendChild(span);
  }

  function button(label, onClick) {
    const b = document.createElement("button");
    b.type = "button";
    b.textContent = label;
    b.addEventListener("click", onClick);
    return b;
  }

  function age(seconds) {
    if (seconds === null || seconds === undefined) return "–";
    if (seconds < 90) return Math.round(seconds) + " s";
    if (seconds < 5400) return Math.round(seconds / 60) + " min";
    if (seconds < 129600) return (seconds / 3600).toFixed(1) + " h";
    return (seconds / 86400).toFixed(1) + " d";
  }

  function since(iso) {
    return age((Date.now() - new Date(iso).getTime()) / 1000);
  }

  function renderServices(services) {
    const body = $("services").tBodies[0];
    body.replaceChildren();
    for (const card of services) {
      const row = body.insertRow();
      row.dataset.service = card.service;
      cell(row, card.service);
      if (!card.reachable) {
        row.className = "attention";
        badge(cell(row, ""), "unreachable", "bad");
        const td = cell(row, card.error, "error-text");
        td.colSpan = 6;
        continue;
      }
      const s = card.status;
      const failing = Object.entries(s.checks).filter(([, ok]) => !ok).map(([name]) => name);
      const readyCell = cell(row, "");
      badge(readyCell, s.ready ? "ready" : "not ready", s.ready ? "ok" : "bad");
      if (failing.length) readyCell.title = "failing: " + failing.join(", ");
      badge(cell(row, ""), s.live ? "live" : "stalled", s.live ? "ok" : "bad");
      const troubled = s.loops.filter((loop) => !loop.ready || loop.stalled);
      const loops = cell(row, troubled.length ? troubled.map((l) => l.name + (l.stalled ? " (stalled)" : " (restarting)")).join(", ") : s.loops.length + " running");
      const restarts = s.loops.reduce((n, l) => n + l.restarts, 0);
      if (restarts) loops.title = restarts + " restart(s) since start; last error: " + (s.loops.find((l) => l.last_error) || {}).last_error;
      cell(row, s.relay_topic ? s.relay_lag : "–", "number");
      const consumer = s.consumer;
      cell(row, consumer ? consumer.lag : "–", "number");
      const letters = cell(row, consumer ? consumer.dead_letters_open : "–", "number");
      const parked = cell(row, consumer ? consumer.parked_episodes : "–", "number");
      if (consumer && consumer.dead_letters_open) badge(letters, String(consumer.dead_letters_open), "bad");
      if (consumer && consumer.parked_episodes) badge(parked, String(consumer.parked_episodes), "warn");
      if (!s.ready || !s.live || (consumer && consumer.dead_letters_open)) row.className = "attention";
    }
  }

  async function readLetters(services) {
    const waiting = services.filter((c) => c.reachable && c.status.consumer && c.status.consumer.dead_letters_open);
    const found = [];
    for (const card of waiting) {
      const base = "/v1/operations/services/" + card.service;
      const letters = await api("GET", base + "/dead-letters");
      const parked = card.status.consumer.parked_episodes ? await api("GET", base + "/parked") : [];
      found.push({ service: card.service, letters, parked });
    }
    return found;
  }

  function renderLetters(found) {
    const holder = $("letters");
    const blocks = found.map(({ service, letters, parked }) => {
      const block = letterTable(service, letters);
      if (parked.length) block.appendChild(parkedTable(parked));
      return block;
    });
    holder.replaceChildren(...blocks);
    if (!blocks.length) {
      const none = document.createElement("p");
      none.className = "muted";
      none.textContent = "No dead letters open.";
      holder.appendChild(none);
    }
  }

  function headedTable(names) {
    const table = document.createElement("table");
    const head = table.createTHead().insertRow();
    for (const name of names) {
      const th = document.createElement("th");
      th.textContent = name;
      head.appendChild(th);
    }
    return table;
  }

  function parkedTable(parked) {
    const holder = document.createElement("div");
    holder.className = "parked";
    const title = document.createElement("p");
    title.className = "muted";
    title.textContent = "Episodes waiting behind these letters (their later events are parked in order, their timers do not fire):";
    const table = headedTable(["Episode", "Events parked", "Waiting", "For letter"]);
    const body = table.createTBody();
    for (const episode of parked) {
      const row = body.insertRow();
      row.dataset.episode = episode.episode_id;
      cell(row, episode.episode_id);
      cell(row, episode.parked, "number");
      cell(row, since(episode.since));
      cell(row, episode.waiting_for.join(", "));
    }
    holder.append(title, table);
    return holder;
  }

  function letterTable(service, letters) {
    const block = document.createElement("div");
    block.dataset.service = service;
    const title = document.createElement("h3");
    title.textContent = service + " · " + letters.length + " open";
    block.appendChild(title);
    const table = headedTable(["Id", "Event type", "Episode", "Reason", "Error", "Attempts", "Waiting", ""]);
    const body = table.createTBody();
    for (const letter of letters) {
      const row = body.insertRow();
      row.dataset.letter = String(letter.id);
      cell(row, letter.id, "number");
      cell(row, letter.event_type ? letter.event_type.split(".").pop() : "–").title = letter.event_type || "";
      cell(row, letter.episode_id);
      cell(row, letter.reason);
      cell(row, letter.error, "error-text");
      cell(row, letter.attempts, "number");
      cell(row, since(letter.created_at));
      const actions = cell(row, "", "actions");
      actions.append(
        button("Re-drive", () => redrive(service, letter.id)),
        button("Discard…", () => askDiscard(actions, service, letter.id))
      );
      if (discarding && discarding.service === service && discarding.id === letter.id) askDiscard(actions, service, letter.id);
    }
    block.appendChild(table);
    return block;
  }

  async function redrive(service, id) {
    await act(async () => {
      const result = await api("POST", "/v1/operations/services/" + service + "/dead-letters/" + id + "/redrive");
      const followed = result.released ? "; " + result.released + " parked event(s) followed" : "";
      if (result.outcome === "failed") return [service + " dead letter " + id + ": failed again: " + result.error, true];
      return [service + " dead letter " + id + ": re-driven (" + result.outcome + ")" + followed, false];
    });
  }

  function askDiscard(actions, service, id) {
    if (!discarding || discarding.service !== service || discarding.id !== id) discarding = { service, id, reason: "" };
    if (actions.querySelector(".discard-form")) return;
    // No <form>: nothing here can submit natively (a navigation would drop the page's state).
    const form = document.createElement("div");
    form.className = "discard-form";
    const reason = document.createElement("input");
    reason.name = "reason";
    reason.placeholder = "why it is given up on (at least 10 characters)";
    reason.value = discarding.reason;
    reason.addEventListener("input", () => { discarding.reason = reason.value; });
    const confirm = button("Discard", async () => {
      const given = reason.value.trim();
      if (given.length < 10) {
        say("Say why the letter is given up on, in at least 10 characters.", true);
        reason.focus();
        return;
      }
      discarding = null;
      await act(async () => {
        const result = await api("POST", "/v1/operations/services/" + service + "/dead-letters/" + id + "/discard", { reason: given });
        const followed = result.released ? "; " + result.released + " parked event(s) followed" : "";
        return [service + " dead letter " + id + ": discarded" + followed, false];
      });
    });
    reason.addEventListener("keydown", (event) => { if (event.key === "Enter") confirm.click(); });
    form.append(reason, confirm, button("Cancel", () => { form.remove(); discarding = null; }));
    actions.appendChild(form);
    reason.focus();
  }

  function renderSubscriptions(subscriptions) {
    const body = $("subscriptions").tBodies[0];
    body.replaceChildren();
    for (const sub of subscriptions) {
      const row = body.insertRow();
      row.dataset.subscription = sub.subscription_id;
      cell(row, sub.subscriber);
      cell(row, sub.endpoint_url);
      const state = cell(row, "");
      badge(state, sub.state, sub.state === "active" ? "ok" : "warn");
      if (sub.state_reason) state.title = sub.state_reason;
      cell(row, sub.pending, "number");
      cell(row, sub.retrying, "number");
      cell(row, sub.dead, "number");
      const oldest = cell(row, age(sub.oldest_pending_seconds), "number");
      if (sub.oldest_pending_seconds > 3600) badge(oldest, age(sub.oldest_pending_seconds), "bad");
      badge(cell(row, ""), sub.breaker_open ? "open" : "closed", sub.breaker_open ? "bad" : "ok");
      const actions = cell(row, "", "actions");
      const path = "/v1/operations/subscriptions/" + sub.subscription_id;
      actions.appendChild(
        sub.state === "active"
          ? button("Pause", () => act(async () => { await api("POST", path + "/pause"); return ["paused " + sub.subscriber + " → " + sub.endpoint_url, false]; }))
          : button("Resume", () => act(async () => { await api("POST", path + "/resume"); return ["resumed " + sub.subscriber + " → " + sub.endpoint_url, false]; }))
      );
      if (sub.breaker_open || sub.oldest_pending_seconds > 3600 || sub.dead) row.className = "attention";
    }
    if (!subscriptions.length) {
      const row = body.insertRow();
      cell(row, "No subscriptions.").colSpan = 9;
    }
  }

  function renderPractices(practices, error) {
    const body = $("practices").tBodies[0];
    body.replaceChildren();
    $("practices-note").textContent = error ? "The pathway could not be asked: " + error : practices.length ? "" : "No practice has open escalations or overdue evaluations.";
    $("practices").hidden = !practices || !practices.length;
    for (const p of practices || []) {
      const row = body.insertRow();
      cell(row, p.practice_agb);
      cell(row, p.open_escalations, "number");
      cell(row, p.overdue_evaluations, "number");
    }
  }

  async function act(action) {
    busy = true;
    try {
      const [message, isError] = await action();
      say(message, isError);
    } catch (error) {
      say(error.message, true);
    } finally {
      busy = false;
      await refresh(true);
    }
  }

  async function refresh(keepStatus) {
    const mine = ++generation;
    if (!token()) {
      document.body.dataset.state = "empty";
      for (const id of ["services-section", "letters-section", "subscriptions-section", "practices-section"]) $(id).hidden = true;
      say("Enter an operator token to see the system.");
      return;
    }
    if (!keepStatus) document.body.dataset.state = "loading";
    try {
      const overview = await api("GET", "/v1/operations/overview");
      const letters = await readLetters(overview.services);
      if (mine !== generation) return; // a later refresh (after an action) shows what it read
      renderServices(overview.services);
      renderLetters(letters);
      renderSubscriptions(overview.subscriptions);
      renderPractices(overview.practices, overview.practices_error);
      for (const id of ["services-section", "letters-section", "subscriptions-section", "practices-section"]) $(id).hidden = false;
      document.body.dataset.state = "shown";
      $("refreshed").textContent = "as of " + new Date(overview.at).toLocaleTimeString();
      if (!keepStatus) say("");
    } catch (error) {
      if (mine !== generation) return;
      document.body.dataset.state = "error";
      if (error.status === 401) say("The token is not valid (or expired).", true);
      else if (error.status === 403) say("This token has no operator role.", true);
      else say("Could not read the system: " + error.message, true);
    }
  }

  function schedule() {
    clearInterval(timer);
    timer = setInterval(() => { if (!busy && !discarding && !document.hidden) refresh(true); }, REFRESH_MS);
  }

  document.addEventListener("DOMContentLoaded", () => {
    $("token-form").addEventListener("submit", (event) => {
      event.preventDefault();
      stored.set($("token").value);
      $("token").value = "";
      refresh(false);
    });
    $("forget-token").addEventListener("click", () => { stored.forget(); refresh(false); });
    $("refresh").addEventListener("click", () => refresh(false));
    refresh(false);
    schedule();
  });
})();
