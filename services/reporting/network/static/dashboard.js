// The network dashboard: fetches the figures from the reporting API with the coordinator's token and
// draws them with Chart.js (served by this service). The page itself holds no data; the API decides who
// sees what. The token lives in sessionStorage (gone when the tab closes); ?token= is taken once and
// removed from the address bar.
"use strict";

(function () {
  const TOKEN_KEY = "ruggengraat.network.token";
  const COLOURS = ["#2f5d8a", "#c0504d", "#4f9a4f", "#8064a2", "#d38b1f", "#4aacc6", "#7f7f7f"];
  const DURATION = ["acute", "subacute", "chronic", "unknown"];
  const COURSE = ["normaal", "afwijkend", "not_classifiable", "unknown"];
  const charts = {};
  const $ = (id) => document.getElementById(id);

  function token() {
    return sessionStorage.getItem(TOKEN_KEY) || "";
  }

  function takeTokenFromAddress() {
    const url = new URL(window.location.href);
    const given = url.searchParams.get("token");
    if (given) {
      sessionStorage.setItem(TOKEN_KEY, given);
      url.searchParams.delete("token");
      window.history.replaceState(null, "", url.pathname + url.search + url.hash);
    }
  }

  function say(text, isError) {
    const status = $("status");
    status.textContent = text;
    status.classList.toggle("error", Boolean(isError));
  }

  function filters() {
    const params = new URLSearchParams();
    for (const name of ["from", "to", "practice"]) {
      const value = $(name).value;
      if (value) params.set(name, value);
    }
    return params;
  }

  async function call(path) {
    const response = await fetch(path, { headers: { authorization: "Bearer " + token() } });
    if (response.status === 401) throw new Error("The token is not valid (or expired).");
    if (response.status === 403) throw new Error("This token may not see these figures.");
    if (!response.ok) {
      let detail = response.statusText;
      try {
        detail = (await response.json()).detail || detail;
      } catch (ignored) {
        // not a problem document
      }
      throw new Error("The figures could not be loaded: " + detail);
    }
    return response;
  }

  // A count is a number, "<5" or ">=5"; charts draw numbers only and leave a gap for the others.
  const value = (count) => (typeof count === "number" ? count : null);
  const label = (row, single) => (single ? row.month : row.practice_agb + " · " + row.month);

  function dataset(name, values, index, extra) {
    const colour = COLOURS[index % COLOURS.length];
    return Object.assign({ label: name, data: values, backgroundColor: colour, borderColor: colour }, extra || {});
  }

  function draw(id, type, labels, datasets, options) {
    if (charts[id]) charts[id].destroy();
    charts[id] = new Chart($(id), {
      type: type,
      data: { labels: labels, datasets: datasets },
      options: Object.assign(
        {
          animation: false,
          responsive: true,
          maintainAspectRatio: false,
          plugins: { legend: { position: "bottom" } },
        },
        options || {},
      ),
    });
  }

  function stacked() {
    return { scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true } } };
  }

  function percent() {
    return { scales: { y: { beginAtZero: true, max: 100 } } };
  }

  function drawCharts(rows, single) {
    const shown = rows.filter((row) => !row.suppressed);
    const labels = shown.map((row) => label(row, single));
    draw(
      "chart-duration",
      "bar",
      labels,
      DURATION.map((c, i) => dataset(c, shown.map((r) => value(r.duration_class[c])), i)),
      stacked(),
    );
    draw(
      "chart-course",
      "bar",
      labels,
      COURSE.map((c, i) => dataset(c, shown.map((r) => value(r.course[c])), i)),
      stacked(),
    );
    const reasons = shown.length ? Object.keys(shown[0].escalation_reasons) : [];
    draw(
      "chart-escalation",
      "bar",
      labels,
      [dataset("escalated (% of episodes)", shown.map((r) => r.escalated_share), 0, { yAxisID: "share" })].concat(
        reasons.map((reason, i) =>
          dataset(reason.replace(/_/g, " "), shown.map((r) => value(r.escalation_reasons[reason])), i + 1, {
            yAxisID: "episodes",
          }),
        ),
      ),
      {
        scales: {
          share: { position: "left", beginAtZero: true, max: 100 },
          episodes: { position: "right", beginAtZero: true, grid: { drawOnChartArea: false } },
        },
      },
    );
    draw(
      "chart-evaluations",
      "bar",
      labels,
      [
        dataset("on time", shown.map((r) => r.evaluations.on_time_share), 2),
        dataset("overdue", shown.map((r) => r.evaluations.overdue_share), 1),
      ],
      percent(),
    );
    draw("chart-sessions", "bar", labels, [dataset("sessions per episode", shown.map((r) => r.sessions.mean_per_episode), 0)], {
      scales: { y: { beginAtZero: true } },
    });
    draw(
      "chart-mcic",
      "bar",
      labels,
      ["qbpds", "nprs", "psk"].map((name, i) => dataset(name.toUpperCase(), shown.map((r) => r.outcomes[name].mcic_share), i)),
      percent(),
    );
    draw(
      "chart-change",
      "bar",
      labels,
      ["qbpds", "nprs"].map((name, i) => dataset(name.toUpperCase(), shown.map((r) => r.outcomes[name].mean_change), i)),
      { scales: { y: { beginAtZero: true } } },
    );
  }

  function columns() {
    const cols = [
      ["practice", (r) => r.practice_agb],
      ["month", (r) => r.month],
      ["episodes", (r) => r.episodes],
    ];
    DURATION.forEach((c) => cols.push([c, (r) => r.duration_class && r.duration_class[c]]));
    COURSE.forEach((c) => cols.push([c, (r) => r.course && r.course[c]]));
    cols.push(["escalated", (r) => r.escalated], ["escalated %", (r) => r.escalated_share]);
    cols.push(["evaluations due", (r) => r.evaluations && r.evaluations.due]);
    cols.push(["on time %", (r) => r.evaluations && r.evaluations.on_time_share]);
    cols.push(["overdue %", (r) => r.evaluations && r.evaluations.overdue_share]);
    cols.push(["sessions/episode", (r) => r.sessions && r.sessions.mean_per_episode]);
    for (const name of ["qbpds", "nprs", "psk"]) {
      cols.push([name.toUpperCase() + " paired", (r) => r.outcomes && r.outcomes[name].paired]);
      if (name !== "psk") cols.push([name.toUpperCase() + " mean change", (r) => r.outcomes && r.outcomes[name].mean_change]);
      cols.push([name.toUpperCase() + " MCIC %", (r) => r.outcomes && r.outcomes[name].mcic_share]);
    }
    return cols;
  }

  function drawTable(rows) {
    const table = $("figures");
    table.replaceChildren();
    const cols = columns();
    const head = table.createTHead().insertRow();
    for (const [name] of cols) {
      const th = document.createElement("th");
      th.textContent = name;
      head.appendChild(th);
    }
    const body = table.createTBody();
    for (const row of rows) {
      const tr = body.insertRow();
      for (const [, get] of cols) {
        const cell = tr.insertCell();
        const v = get(row);
        cell.textContent = v === null || v === undefined ? "–" : String(v);
        if (typeof v === "string" && /^[<>]/.test(v)) cell.className = "small";
      }
    }
  }

  function offerPractices(rows) {
    const select = $("practice");
    const known = new Set(Array.from(select.options).map((o) => o.value));
    for (const practice of [...new Set(rows.map((r) => r.practice_agb))].sort()) {
      if (!known.has(practice)) select.add(new Option(practice, practice));
    }
  }

  async function load() {
    if (!token()) {
      say("Enter an access token to see the figures.", true);
      return;
    }
    document.body.dataset.state = "loading";
    say("Loading…");
    try {
      const params = filters();
      const report = await (await call("/v1/network/quality?" + params)).json();
      offerPractices(report.rows);
      $("charts").hidden = false;
      $("table-section").hidden = false;
      drawCharts(report.rows, Boolean(report.practice));
      drawTable(report.rows);
      const who = report.scope === "network" ? "all practices of the network" : "practice " + report.practice;
      say(report.rows.length + " practice-months for " + who + ".");
      document.body.dataset.scope = report.practice || "all";
      document.body.dataset.state = "drawn";
    } catch (error) {
      document.body.dataset.state = "error";
      say(error.message, true);
    }
  }

  async function exportCsv() {
    try {
      const blob = await (await call("/v1/network/quality.csv?" + filters())).blob();
      const link = document.createElement("a");
      link.href = URL.createObjectURL(blob);
      link.download = "network-quality.csv";
      link.click();
      setTimeout(() => URL.revokeObjectURL(link.href), 1000);
    } catch (error) {
      say(error.message, true);
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    takeTokenFromAddress();
    $("token-form").addEventListener("submit", (event) => {
      event.preventDefault();
      sessionStorage.setItem(TOKEN_KEY, $("token").value.trim().replace(/^Bearer\s+/i, ""));
      $("token").value = "";
      load();
    });
    $("forget-token").addEventListener("click", () => {
      sessionStorage.removeItem(TOKEN_KEY);
      for (const id of Object.keys(charts)) {
        charts[id].destroy();
        delete charts[id];
      }
      $("charts").hidden = true;
      $("table-section").hidden = true;
      document.body.dataset.state = "empty";
      say("Token forgotten.");
    });
    $("filter-form").addEventListener("submit", (event) => {
      event.preventDefault();
      load();
    });
    $("export").addEventListener("click", exportCsv);
    if (token()) load();
  });
})();
