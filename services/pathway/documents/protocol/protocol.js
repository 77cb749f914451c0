// The network's protocol page: the protocol in force and its history, and a draft tried on history
// (GET /v1/network/protocols, POST /v1/network/protocols/what-if). Holds no data itself: it asks the pathway with
// the token the person entered.
(function () {
  "use strict";
  const token = window.RuggengraatToken("ruggengraat.protocol");
  const $ = (id) => document.getElementById(id);
  const VALUES = ["evaluation_interval_days", "overdue_grace_days", "no_effect_escalation_days", "normal_course_max_sessions"];
  const FIGURES = [
    ["episodes", "Episodes"],
    ["episodes_changed", "Waarvan anders"],
    ["escalations_added", "Escalaties naar verwijzer erbij"],
    ["escalations_removed", "Escalaties die vervallen"],
    ["episodes_with_evaluations_moved", "Met verschoven evaluatie"],
    ["plans_changed", "Ander behandelplan"],
    ["overdue_before", "Evaluatie te laat (zoals beslist)"],
    ["overdue_after", "Evaluatie te laat (concept)"],
  ];
  const REASONS = {
    no_progress_after_three_weeks: "geen effect na de evaluatieperiode",
    radicular_signs: "radiculaire verschijnselen",
    general_illness_signs: "algemene ziekteverschijnselen",
    suspected_specific_cause: "vermoeden specifieke oorzaak",
    incomplete_referral: "onvolledige verwijzing",
    factors_beyond_physiotherapy: "factoren buiten de fysiotherapie",
  };

  function status(text, error) {
    $("status").textContent = text;
    $("status").className = error ? "error" : "";
  }

  async function call(method, path, body) {
    const response = await fetch(path, {
      method,
      headers: { authorization: "Bearer " + token.get(), "content-type": "application/json" },
      body: body ? JSON.stringify(body) : undefined,
    });
    const answer = await response.json().catch(() => ({}));
    if (!response.ok) {
      const reasons = (answer.errors || []).map((e) => e.field + ": " + e.reason).join("; ");
      throw new Error(response.status === 401 || response.status === 403
        ? "Dit token geeft geen toegang (netwerk of praktijk nodig)."
        : reasons || answer.detail || "Fout " + response.status);
    }
    return answer;
  }

  function cell(row, text, className) {
    const td = row.insertCell();
    td.textContent = text;
    if (className) td.className = className;
    return td;
  }

  function headed(table, headings) {
    table.replaceChildren();
    const head = table.createTHead().insertRow();
    for (const heading of headings) {
      const th = document.createElement("th");
      th.textContent = heading;
      head.appendChild(th);
    }
    return table.createTBody();
  }

  function dutchDate(iso) {
    return iso ? new Date(iso).toLocaleDateString("nl-NL", { day: "numeric", month: "long", year: "numeric" }) : "—";
  }

  function showProtocols(answer) {
    const current = answer.in_force;
    $("in-force").textContent = current.effective_from
      ? `${current.title || current.version} (versie ${current.version}, op richtlijn ${current.guideline_version}), ` +
        `in gebruik sinds ${dutchDate(current.effective_from)}.`
      : `Er is nog geen netwerkprotocol vastgesteld: de beslissingen volgen de richtlijn zoals geschreven ` +
        `(${current.guideline_version}).`;
    const body = headed($("history"), ["Versie", "Titel", "Evaluatie elke (dagen)", "Marge te laat (dagen)",
      "Geen effect → verwijzer (dagen)", "Sessies normaal beloop", "Ingangsdatum", "Vastgesteld door"]);
    for (const p of [current, ...answer.adopted.filter((a) => a.version !== current.version)]) {
      const row = body.insertRow();
      cell(row, p.version, "text");
      cell(row, p.title || "—", "text");
      for (const name of VALUES) cell(row, String(p.values[name]));
      cell(row, p.effective_from ? dutchDate(p.effective_from) : "—", "text");
      cell(row, p.adopted_by || "—", "text");
    }
    for (const name of VALUES) if (!$(name).value) $(name).value = current.values[name];
    $("protocols").hidden = $("draft-section").hidden = false;
  }

  async function load() {
    if (!token.get()) {
      status("Vul een toegangstoken in (rol netwerk of praktijk).");
      return;
    }
    try {
      showProtocols(await call("GET", "/v1/network/protocols"));
      status("");
    } catch (error) {
      status(error.message, true);
    }
  }

  function monthAfter(month) {
    const [year, m] = month.split("-").map(Number);
    return m === 12 ? `${year + 1}-01-01` : `${year}-${String(m + 1).padStart(2, "0")}-01`;
  }

  function changeClass(before, after) {
    return after > before ? "more" : after < before ? "less" : "";
  }

  function showResult(answer, own) {
    $("result-title").textContent =
      `Wat concept “${answer.draft}” zou veranderen (verwezen ${dutchDate(answer.period_from)} tot ${dutchDate(answer.period_to)})`;
    const body = headed($("practices"), ["Praktijk (AGB)", ...FIGURES.map((f) => f[1])]);
    for (const practice of answer.practices) {
      const row = body.insertRow();
      cell(row, practice.practice_agb, "text");
      for (const [name] of FIGURES) cell(row, String(practice[name]));
      row.cells[8].className = changeClass(practice.overdue_before, practice.overdue_after);
    }
    const total = body.insertRow();
    total.className = "total";
    cell(total, own ? "Totaal" : "Netwerk", "text");
    for (const [name] of FIGURES) cell(total, String(answer.total[name]));
    $("own").hidden = !own;
    if (own) {
      const episodes = headed($("episodes"), ["Episode", "Verwezen", "Escalatie erbij", "Escalatie vervalt",
        "Evaluaties verschoven", "Plan anders", "Te laat (zoals beslist → concept)"]);
      for (const e of answer.episodes) {
        const row = episodes.insertRow();
        cell(row, e.episode_id.slice(0, 8), "text").title = e.episode_id;
        cell(row, dutchDate(e.referred_on), "text");
        cell(row, e.escalations_added.map((x) => REASONS[x.reason] || x.reason).join(", ") || "—", "text");
        cell(row, e.escalations_removed.map((x) => REASONS[x.reason] || x.reason).join(", ") || "—", "text");
        cell(row, e.evaluations_moved.map((m) => `${m.evaluation_number}: ${dutchDate(m.due_before)} → ${dutchDate(m.due_after)}`).join("; ") || "—", "text");
        cell(row, e.plan_changed ? "ja" : "nee", "text");
        const late = (list) => (list.length ? list.map((n) => "evaluatie " + n).join(", ") : "geen");
        cell(row, `${late(e.overdue_before)} → ${late(e.overdue_after)}`, "text");
      }
      if (!answer.episodes.length) episodes.insertRow().insertCell().textContent = "Geen eigen episode zou anders lopen.";
    }
    $("result").hidden = false;
    document.body.dataset.state = "result";
  }

  async function run(event) {
    event.preventDefault();
    const values = {};
    for (const name of VALUES) values[name] = Number($(name).value);
    const request = { draft: { version: $("version").value.trim(), values }, from: $("from").value + "-01", to: monthAfter($("to").value) };
    status("Bezig met doorrekenen…");
    $("run").disabled = true;
    try {
      const answer = await call("POST", "/v1/network/protocols/what-if", request);
      showResult(answer, answer.episodes.length > 0 || answer.practices.length === 1);
      status(`Doorgerekend: ${answer.total.episodes} episodes (afgerond).`);
    } catch (error) {
      status(error.message, true);
    } finally {
      $("run").disabled = false;
    }
  }

  $("token-form").addEventListener("submit", (event) => {
    event.preventDefault();
    token.set($("token").value);
    $("token").value = "";
    load();
  });
  $("forget-token").addEventListener("click", () => {
    token.forget();
    $("protocols").hidden = $("draft-section").hidden = $("result").hidden = true;
    status("Token vergeten.");
  });
  $("draft").addEventListener("submit", run);
  load();
})();
